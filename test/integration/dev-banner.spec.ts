import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, MeshexecProcess } from "../support/meshexec-process.js";
import { waitFor } from "../support/wait-for.js";

/** Runs a script in bash as a person's shell would, with `meshexec` the CLI of this checkout and no MESHEXEC_* of the test's. */
function bash(script: string): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill(): void } {
  const child = spawn("bash", ["-c", `meshexec() { node ${JSON.stringify(CLI)} "$@"; }\n${script}`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  // The whole process group: bash and the agent it started.
  return { done, kill: () => child.exitCode === null && process.kill(-child.pid!, "SIGKILL") };
}

describe("meshexec dev's banner", function () {
  this.timeout(30_000);
  let dev: MeshexecProcess;
  let secondAgent: ReturnType<typeof bash> | undefined;
  after(async () => {
    secondAgent?.kill();
    await dev?.stop("SIGKILL");
  });

  it("prints exports the CLI reads and the way to attach a second agent with labels, and both work as printed", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "meshexec-dev-banner-")), "data");
    dev = MeshexecProcess.spawn("dev", [
      "dev",
      "--rest-listen",
      "127.0.0.1:0",
      "--grpc-listen",
      "127.0.0.1:0",
      "--hostname",
      "dev-banner",
      "--label",
      "zone=here",
      "--data-dir",
      dataDir,
    ]);
    const banner = await waitFor("dev to print its banner", () => {
      if (!dev.running) throw new Error(`dev exited: ${dev.stderr}`);
      return /--agent-token .*\n/.test(dev.stderr) && dev.stderr;
    });
    const exports = banner
      .split("\n")
      .filter((line) => line.startsWith("  export "))
      .join("\n");
    expect(exports).to.match(/MESHEXEC_GATEWAY=http:\/\/127\.0\.0\.1:\d+ MESHEXEC_TOKEN=\S+\n {2}export TOKEN=\$MESHEXEC_TOKEN/);
    expect(banner).to.include("make install");

    // The next command a person types, in the shell the exports were pasted into.
    const agents = await bash(`${exports}\nmeshexec agents --json`).done;
    expect(agents.code, agents.stderr).to.equal(0);
    expect(JSON.parse(agents.stdout).agents.map((a: { hostname: string; labels: object }) => [a.hostname, a.labels])).to.deep.equal([
      ["dev-banner", { role: "dev", zone: "here" }],
    ]);
    const curl = await bash(`${exports}\ncurl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$MESHEXEC_GATEWAY/agents"`).done;
    expect(curl.stdout).to.equal("200");

    // The second agent, exactly as the banner says (its two lines joined by the shell's \ continuation).
    const attach = /\n( {2}meshexec agent [^\n]*\\\n[^\n]*)\n/.exec(banner)![1];
    secondAgent = bash(attach);
    const listed = await waitFor("the second agent to be listed", async () => {
      const { code, stdout } = await bash(`${exports}\nmeshexec agents --json`).done;
      const all = code === 0 ? (JSON.parse(stdout).agents as Array<{ hostname: string; labels: Record<string, string> }>) : [];
      return all.find((agent) => agent.hostname === "web-1");
    });
    expect(listed.labels).to.deep.equal({ role: "web" });
    // The dev token may do what the README shows with it: revoke an agent (agent:admin).
    const revoke = await bash(`${exports}\nmeshexec agents revoke web-1`).done;
    expect(revoke.code, revoke.stderr).to.equal(0);
  });
});
