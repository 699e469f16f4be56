import { spawn, type ChildProcess } from "node:child_process";
import { shellQuote } from "../../src/cli/output/shell-quote.js";
import { CLI } from "./meshexec-process.js";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** What it has written so far. */
  output(): { stdout: string; stderr: string };
  /** Typed on its terminal, with `tty`: "\x03" is a real Ctrl-C (the terminal sends SIGINT). */
  type(text: string): void;
  done: Promise<CliRun>;
}

/**
 * Runs `meshexec <args>` to the end, as an operator's shell would. Only `env` reaches it, so no
 * MESHEXEC_* of the test's own leaks in. stdout and stderr are pipes, unless `tty`: then both are
 * one pseudo-terminal (util-linux `script`), whose output, merged, comes back as stdout.
 */
export function runCli(args: string[], env: Record<string, string> = {}, options: { tty?: boolean; stdin?: Buffer } = {}): Promise<CliRun> {
  return startCli(args, env, options).done;
}

/** As runCli, but returns at once, to watch it and type on its terminal while it runs. */
/** `stdin` is piped to it, then closed (not with `tty`). */
export function startCli(args: string[], env: Record<string, string> = {}, options: { tty?: boolean; stdin?: Buffer } = {}): RunningCli {
  const argv = [process.execPath, CLI, ...args];
  const [file, ...fileArgs] = options.tty ? ["script", "--quiet", "--return", "--flush", "--command", shellQuote(argv), "/dev/null"] : argv;
  const child = spawn(file, fileArgs, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: [options.tty || options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
  });
  if (options.stdin && !options.tty) child.stdin!.end(options.stdin);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), type: (text) => child.stdin!.write(text), done };
}
