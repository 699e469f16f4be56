/** The values the API's enumerated fields take, shared by the router, the store, the edge and its OpenAPI document. */

/**
 * A host's result: the command ran (whatever its exit code), could not run, was killed at its time
 * limit, was never started (error budget spent, or its job cancelled first), or was killed by a cancel.
 */
export const HOST_STATUSES = ["ok", "failed", "timeout", "skipped", "cancelled"] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];

/** A job: still running, every host ran, some did, none did, or cancelled (CancelJob) before it ended. */
export const JOB_STATUSES = ["running", "completed", "partial_failure", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Which of a command's streams a piece of live output (`?stream=true`'s "output" lines) is from. */
export const OUTPUT_STREAMS = ["stdout", "stderr"] as const;
export type OutputStreamName = (typeof OUTPUT_STREAMS)[number];

/** Paged lists (jobs, audit): a limit of 0 or none means the default; past the maximum is an error. */
export const PAGE_SIZE = { default: 20, max: 100 } as const;
