/** What the agent asks of a node's container engine: one call, small enough to read at a glance. */
export interface ContainerRuntime {
  /** Runs argv in a container. Resolves once it exits or is killed; rejects with RuntimeFailure when it could not run. */
  exec(spec: ExecSpec, signal: AbortSignal): Promise<ExecRun>;
}

export interface ExecSpec {
  containerId: string;
  command: string[];
  env: string[];
  /** Empty means the container's default. */
  workingDir: string;
  /** The process is killed when this passes. */
  timeoutMs: number;
}

export interface ExecRun {
  /** Absent when the process was killed before it exited. */
  exitCode?: number;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

export type RuntimeFailureReason = "container-not-found" | "container-not-running" | "engine-unavailable" | "internal";

/** The command never ran. */
export class RuntimeFailure extends Error {
  constructor(
    readonly reason: RuntimeFailureReason,
    message: string,
  ) {
    super(message);
    this.name = "RuntimeFailure";
  }
}
