import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { progress } from "./progress.js";

const run = promisify(execFile);

/**
 * wrk, a C load generator, drives the REST edge: a Node client at 4,000+ req/s would take most
 * of a core from the two the mesh itself runs on. Installed from Debian when missing (as root);
 * when it cannot be, the caller falls back to the Node load generator and says so.
 */
export function ensureWrk(): boolean {
  if (hasWrk()) return true;
  if (process.getuid?.() !== 0) return false;
  progress("installing wrk from Debian (apt-get install -y wrk) for the REST load");
  try {
    execFileSync("apt-get", ["install", "-y", "-qq", "wrk"], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  } catch {
    execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
    execFileSync("apt-get", ["install", "-y", "-qq", "wrk"], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  }
  return hasWrk();
}

function hasWrk(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (err) {
    // wrk --version prints its banner and exits 1; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

/** Requests/s of 2xx answers to POST …/exec, `connections` kept-alive connections on 2 threads. */
export async function wrkExec(
  url: string,
  token: string,
  connections: number,
  seconds: number,
): Promise<{ requestsPerSecond: number; requests: number; non2xx: number; socketErrors: string }> {
  const script = join(tmpdir(), `meshexec-bench-${process.pid}.lua`);
  writeFileSync(
    script,
    [
      `wrk.method = "POST"`,
      `wrk.body = '{"command":["true"]}'`,
      `wrk.headers["Content-Type"] = "application/json"`,
      `wrk.headers["Authorization"] = "Bearer ${token}"`,
    ].join("\n"),
  );
  const { stdout } = await run("wrk", ["-t2", `-c${connections}`, `-d${seconds}s`, "--timeout", "5s", "-s", script, url]);
  const requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const socketErrors = /Socket errors:.*$/m.exec(stdout)?.[0] ?? "";
  return { requestsPerSecond, requests, non2xx, socketErrors };
}
