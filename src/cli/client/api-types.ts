/**
 * The REST API's JSON, as the edge sends it (snake_case, exactly as on the wire): the return
 * types of the edge's transcode functions, so a field added or renamed there is one here too
 * (and in the OpenAPI schemas, typed against the same functions). Type imports only: they are
 * erased, so the client never loads the edge (eslint.config.js refuses a value import here).
 */
import type {
  agentListToHttp,
  agentRevocationToHttp,
  auditPageToHttp,
  execResponseToHttp,
  hostResultToHttp,
  jobListToHttp,
  jobToHttp,
  revokedTokenToHttp,
  streamErrorToHttp,
  streamEventToHttp,
} from "../../../gateway/transcode.js";
import type { HostStatus, JobStatus, OutputStreamName } from "../../contract/index.js";

/**
 * What JSON.stringify sends of T: a key whose value may be undefined may be absent. The proto
 * carries the enumerated fields as strings; `Narrowed` gives them the values the API documents.
 */
type Wire<T, Narrowed = object> = Omit<
  { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> },
  keyof Narrowed
> &
  Narrowed;

export type HostResult = Wire<ReturnType<typeof hostResultToHttp>, { status: HostStatus }>;

export type ExecResponse = Wire<ReturnType<typeof execResponseToHttp>, { results: HostResult[] }>;

type StreamLine = Exclude<ReturnType<typeof streamEventToHttp>, undefined>;
/**
 * One line of `?stream=true`'s NDJSON. After an "output_dropped" line (the reader fell behind) no
 * more output lines follow, results still do; an "error" line, a failure after the 200 went out,
 * is always the last.
 */
export type ExecStreamEvent =
  | Exclude<StreamLine, { type: "result" | "output" }>
  | { type: "result"; result: HostResult }
  | Wire<Extract<StreamLine, { type: "output" }>, { stream: OutputStreamName }>
  | ReturnType<typeof streamErrorToHttp>;

export type AgentInfo = ReturnType<typeof agentListToHttp>["agents"][number];

export type Job = Wire<ReturnType<typeof jobToHttp>, { status: JobStatus; results: HostResult[] }>;

export type JobsPage = Wire<ReturnType<typeof jobListToHttp>, { jobs: Job[] }>;

export type AuditPage = ReturnType<typeof auditPageToHttp>;
export type AuditEntry = AuditPage["entries"][number];

/** The answer of POST /agents/{hostname}/revoke. */
export type AgentRevocation = ReturnType<typeof agentRevocationToHttp>;

/** The answer of POST /tokens/{jti}/revoke. */
export type RevokedToken = ReturnType<typeof revokedTokenToHttp>;
