import { spawn } from "node:child_process";
import { shellQuote } from "../../src/cli/output/shell-quote.js";
import { CLI } from "./meshexec-process.js";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `meshexec <args>` to the end, as an operator's shell would. Only `env` reaches it, so no
 * MESHEXEC_* of the test's own leaks in. stdout and stderr are pipes, unless `tty`: then both are
 * one pseudo-terminal (util-linux `script`), whose output, merged, comes back as stdout.
 */
export function runCli(args: string[], env: Record<string, string> = {}, options: { tty?: boolean } = {}): Promise<CliRun> {
  const argv = [process.execPath, CLI, ...args];
  const [file, ...fileArgs] = options.tty ? ["script", "--quiet", "--return", "--flush", "--command", shellQuote(argv), "/dev/null"] : argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file, fileArgs, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
