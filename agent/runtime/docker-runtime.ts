import { once } from "node:events";
import type { Duplex } from "node:stream";
import Docker from "dockerode";
import { BoundedOutput } from "./bounded-output.js";
import { RuntimeFailure, type ContainerIdentity, type ContainerRuntime, type ExecRun, type ExecSpec } from "./container-runtime.js";
import { killProcessTree } from "./kill-process-tree.js";

export interface DockerRuntimeOptions {
  /** Unix socket of the engine; without it dockerode follows DOCKER_HOST or the default socket. */
  socketPath?: string;
  /** Cap on each of stdout and stderr kept per exec. */
  outputLimitBytes: number;
}

/**
 * Runs execs with dockerode: create, start, demultiplex stdout from stderr, wait, then take
 * the exit code from exec inspect.
 */
export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Docker;

  constructor(private readonly options: DockerRuntimeOptions) {
    this.docker = new Docker(options.socketPath ? { socketPath: options.socketPath } : undefined);
  }

  /** Container inspect: the engine resolves a name, a full id or an id prefix, as exec create would. */
  async resolve(containerId: string): Promise<ContainerIdentity> {
    const info = await this.docker
      .getContainer(containerId)
      .inspect()
      .catch((err) => {
        throw describeDockerError(err, containerId);
      });
    return { id: info.Id, name: info.Name.replace(/^\//, "") };
  }

  async exec(spec: ExecSpec, signal: AbortSignal): Promise<ExecRun> {
    const started = performance.now();
    const hasStdin = (spec.stdin?.length ?? 0) > 0;
    const exec = await this.docker
      .getContainer(spec.containerId)
      .exec({
        Cmd: spec.command,
        Env: spec.env,
        WorkingDir: spec.workingDir || undefined,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: hasStdin,
        Tty: false,
      })
      .catch((err) => {
        throw describeDockerError(err, spec.containerId);
      });
    const stream = await exec.start({ hijack: true, stdin: hasStdin }).catch((err) => {
      throw describeDockerError(err, spec.containerId);
    });

    const { onOutput } = spec;
    const stdout = new BoundedOutput(this.options.outputLimitBytes, onOutput && ((chunk) => onOutput("stdout", chunk)));
    const stderr = new BoundedOutput(this.options.outputLimitBytes, onOutput && ((chunk) => onOutput("stderr", chunk)));
    this.docker.modem.demuxStream(stream, stdout, stderr);
    // Half-closing the hijacked connection is what closes the command's stdin (EOF). A command
    // that exits without reading it all makes the write fail (EPIPE); that is its choice, not a failure.
    if (hasStdin) {
      stream.on("error", () => {});
      stream.end(spec.stdin);
    }

    const ending = await waitForEnding(stream, exec, spec.timeoutMs, signal);
    let exitCode: number | undefined;
    if (ending === "timeout" || ending === "cancelled") {
      await killExec(exec);
    } else {
      exitCode = await exitCodeOf(exec);
    }
    // A background child may still hold the stream open; nothing more is read from it.
    stream.destroy();
    return {
      exitCode,
      timedOut: ending === "timeout",
      stdout: stdout.text(),
      stderr: stderr.text(),
      stdoutTruncated: stdout.truncated,
      stderrTruncated: stderr.truncated,
      durationMs: Math.round(performance.now() - started),
    };
  }
}

type Ending = "stream-ended" | "process-exited" | "timeout" | "cancelled";

/**
 * Waits for the output stream to end, which is the usual way an exec finishes. The stream can
 * outlive the process when a background child keeps stdout open, so exec inspect is polled
 * too, less often the longer the exec runs; and the time limit bounds it all.
 * (demuxStream never ends its outputs, so it is the source stream that is watched.)
 */
async function waitForEnding(stream: Duplex, exec: Docker.Exec, timeoutMs: number, signal: AbortSignal): Promise<Ending> {
  const done = new AbortController();
  const streamEnded = Promise.race([once(stream, "end"), once(stream, "close")])
    .catch(() => undefined)
    .then(() => "stream-ended" as const);
  const timedOut = sleep(timeoutMs, done.signal).then(() => "timeout" as const);
  const cancelled = new Promise<"cancelled">((resolve) => {
    if (signal.aborted) resolve("cancelled");
    signal.addEventListener("abort", () => resolve("cancelled"), { once: true, signal: done.signal });
  });
  const processExited = (async () => {
    for (let pollMs = 250; !done.signal.aborted; pollMs = Math.min(pollMs * 2, 2_000)) {
      await sleep(pollMs, done.signal);
      const info = await exec.inspect().catch(() => undefined);
      if (info && !info.Running) {
        // Give output already in flight a moment to arrive before calling it done.
        await Promise.race([streamEnded, sleep(100, done.signal)]);
        return "process-exited" as const;
      }
    }
    return new Promise<never>(() => {});
  })();
  try {
    return await Promise.race([streamEnded, processExited, timedOut, cancelled]);
  } finally {
    // With a reason, abort() skips building a DOMException and its stack: 2% of the agent's CPU.
    done.abort("exec ended");
  }
}

/** The stream can end a moment before inspect stops reporting Running, so ask again briefly. */
async function exitCodeOf(exec: Docker.Exec): Promise<number | undefined> {
  for (let attempt = 0, waitMs = 5; attempt < 40; attempt++, waitMs = Math.min(waitMs * 2, 100)) {
    const info = await exec.inspect();
    if (!info.Running) return info.ExitCode ?? undefined;
    await sleep(waitMs);
  }
  return undefined;
}

/**
 * Kills the exec's process tree. An exec cancelled a few milliseconds after its start may not have
 * a process yet (inspect says Pid 0): it would start after the kill and run on, so inspect is asked
 * again briefly until the process is there (killed) or gone (Pid set, not running).
 */
async function killExec(exec: Docker.Exec): Promise<void> {
  for (let attempt = 0, waitMs = 5; attempt < 40; attempt++, waitMs = Math.min(waitMs * 2, 100)) {
    const info = await exec.inspect().catch(() => undefined);
    if (!info || info.Pid > 0) {
      if (info?.Running) killProcessTree(info.Pid);
      return;
    }
    await sleep(waitMs);
  }
}

/** What the engine's error means for the caller; the engine's own error stays as `cause`, for the agent's log. */
export function describeDockerError(err: unknown, containerId: string): RuntimeFailure {
  const e = err as { statusCode?: number; code?: string; message?: string; json?: { message?: string } };
  const engineSays = e.json?.message ?? e.message ?? String(err);
  const cause = { cause: err };
  if (e.statusCode === 404) return new RuntimeFailure("container-not-found", `no container "${containerId}" on this node`, cause);
  if (e.statusCode === 409) return new RuntimeFailure("container-not-running", `container "${containerId}" is not running: ${engineSays}`, cause);
  if (e.code && ["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET", "EPIPE"].includes(e.code)) {
    return new RuntimeFailure("engine-unavailable", `the Docker engine is unavailable (${e.code}): ${engineSays}`, cause);
  }
  return new RuntimeFailure("internal", `docker: ${engineSays}`, cause);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
