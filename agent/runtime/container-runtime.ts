/** What the agent asks of a node's container engine: two calls, small enough to read at a glance. */
export interface ContainerRuntime {
  /**
   * Which container a caller's name or id prefix means, as the engine resolves it; rejects with
   * RuntimeFailure when there is none. Only asked when the caller's grants restrict containers.
   */
  resolve(containerId: string): Promise<ContainerIdentity>;
  /** Runs argv in a container. Resolves once it exits or is killed; rejects with RuntimeFailure when it could not run. */
  exec(spec: ExecSpec, signal: AbortSignal): Promise<ExecRun>;
}

export interface ContainerIdentity {
  /** The full id, which names this one container however others are named or created meanwhile. */
  id: string;
  /** Its name, without the leading "/" the engine reports. */
  name: string;
}

export interface ExecSpec {
  containerId: string;
  command: string[];
  env: string[];
  /** Empty means the container's default. */
  workingDir: string;
  /** The process is killed when this passes. */
  timeoutMs: number;
  /** Written to the command's standard input, which is then closed; absent or empty, stdin stays closed. */
  stdin?: Uint8Array;
  /** Told each piece of output as the command writes it, only what the output cap keeps, in order per stream. */
  onOutput?: (stream: OutputStreamName, chunk: Buffer) => void;
}

export type OutputStreamName = "stdout" | "stderr";

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

export type RuntimeFailureReason = "container-not-found" | "container-not-running" | "container-not-allowed" | "engine-unavailable" | "internal";

/** The command never ran. */
export class RuntimeFailure extends Error {
  constructor(
    readonly reason: RuntimeFailureReason,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "RuntimeFailure";
  }
}
