import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BENCH_COMMAND, checkRan, type ExecPath } from "./exec-path.js";

const run = promisify(execFile);

/** (b) What a user would type instead: `docker exec CONTAINER echo hello`, a fresh CLI process each time. */
export function dockerCliExec(): ExecPath {
  return {
    id: "b",
    label: "docker exec CLI",
    async exec(container) {
      const { stdout } = await run("docker", ["exec", container, ...BENCH_COMMAND]);
      checkRan("docker CLI", stdout, 0);
      return undefined;
    },
    close() {},
  };
}
