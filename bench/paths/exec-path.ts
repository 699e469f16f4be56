/** One way of running a command in a container, timed end to end by the bench. */
export interface ExecPath {
  /** The letter: a dockerode, b docker CLI, c REST edge, d gRPC caller; e REST to the no-op agent (the mesh alone). */
  id: "a" | "b" | "c" | "d" | "e";
  label: string;
  /**
   * Runs BENCH_COMMAND in the container; rejects unless it ran and printed what it should.
   * Paths through an agent resolve with the duration its runtime reported (duration_ms), which
   * splits their time into the engine's part and the mesh's part.
   */
  exec(container: string): Promise<number | undefined>;
  close(): void;
}

/** Short and real: the process runs and writes output, so every path pays for output and exit code. */
export const BENCH_COMMAND = ["echo", "hello"];

/** A path that answered fast but wrong would make a fine-looking number, so every answer is checked. */
export function checkRan(path: string, stdout: string, exitCode: number | null | undefined, expected = "hello\n"): void {
  if (stdout !== expected || exitCode !== 0)
    throw new Error(`${path}: expected ${JSON.stringify(expected)} and exit 0, got ${JSON.stringify(stdout)} and exit ${exitCode}`);
}
