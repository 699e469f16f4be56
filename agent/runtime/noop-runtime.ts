import type { ContainerIdentity, ContainerRuntime, ExecRun } from "./container-runtime.js";

/**
 * Answers every exec at once with exit code 0 and no output, touching no engine. It exists only
 * to benchmark the mesh itself (router, links, edge); never use it to run real work.
 */
export class NoopRuntime implements ContainerRuntime {
  /** Every container is there, named as the caller named it. */
  async resolve(containerId: string): Promise<ContainerIdentity> {
    return { id: containerId, name: containerId };
  }

  async exec(): Promise<ExecRun> {
    return { exitCode: 0, timedOut: false, stdout: "", stderr: "", stdoutTruncated: false, stderrTruncated: false, durationMs: 0 };
  }
}
