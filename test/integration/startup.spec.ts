import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MeshexecProcess } from "../support/meshexec-process.js";

/** Flags and listen addresses are checked before a process serves anything, and a refusal is one line per problem, exit 2. */
describe("start-up: bad flags and busy ports", function () {
  this.timeout(30_000);
  const secret = { MESHEXEC_JWT_SECRET: randomBytes(32).toString("base64url") };
  const dataDir = () => join(mkdtempSync(join(tmpdir(), "meshexec-startup-")), "data");
  const started: MeshexecProcess[] = [];
  let busy: Server;
  let busyAddress: string;

  before(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyAddress = `127.0.0.1:${(busy.address() as { port: number }).port}`;
  });
  after(async () => {
    await Promise.all(started.map((p) => p.stop("SIGKILL")));
    busy.close();
  });

  const spawn = (name: string, args: string[], env: Record<string, string> = secret) => {
    const process = MeshexecProcess.spawn(name, args, env);
    started.push(process);
    return process;
  };

  /** Its stderr as lines, once it has exited; it must have exited 2 without listening on anything. */
  async function refusal(process: MeshexecProcess): Promise<string[]> {
    const { code } = await process.exited;
    expect(code, `${process.name}: ${process.stderr}`).to.equal(2);
    expect(
      process.logs.filter((line) => /listening/.test(String(line.msg))),
      process.name,
    ).to.deep.equal([]);
    const lines = process.stderr.trim().split("\n");
    expect(process.stderr, "no stack trace").not.to.match(/^\s+at /m);
    return lines;
  }

  it("a bad duration stops each server command at startup, naming the flag, instead of failing on SIGTERM", async () => {
    const runs = [
      spawn("router", ["router", "--grpc-listen", "127.0.0.1:0", "--data-dir", dataDir(), "--drain-timeout", "soon"]),
      spawn("gateway", ["gateway", "--rest-listen", "127.0.0.1:0", "--request-timeout", "soon"]),
      spawn("agent", ["agent", "--agent-token", "t", "--drain-timeout", "soon"], {}),
      spawn("dev", ["dev", "--rest-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--data-dir", dataDir(), "--job-ttl", "soon"]),
    ];
    const flags = ["drain-timeout", "request-timeout", "drain-timeout", "job-ttl"];
    for (const [i, run] of runs.entries()) {
      expect(await refusal(run), run.name).to.deep.equal([
        `meshexec ${run.name}: invalid --${flags[i]}: expected a duration such as 30s, 5m or 1h, got "soon"`,
      ]);
    }
  });

  it("reports every bad flag at once, one line each", async () => {
    const router = spawn("router", [
      "router",
      "--grpc-listen",
      "nowhere",
      "--data-dir",
      dataDir(),
      "--drain-timeout",
      "soon",
      "--rate-limit",
      "lots",
      "--ready-min-agents",
      "0",
    ]);
    expect(await refusal(router)).to.deep.equal([
      'meshexec router: invalid --grpc-listen: expected HOST:PORT, got "nowhere"',
      'meshexec router: invalid --rate-limit: expected a whole number (0 or more), got "lots"',
      'meshexec router: invalid --ready-min-agents: expected a positive integer, got "0"',
      'meshexec router: invalid --drain-timeout: expected a duration such as 30s, 5m or 1h, got "soon"',
    ]);
    const agent = spawn("agent", ["agent", "--agent-token", "t", "--hostname", "web_1", "--runtime", "podman", "--max-queued", "many"], {});
    expect(await refusal(agent)).to.deep.equal([
      'meshexec agent: invalid --hostname: "web_1" is not an RFC 1123 hostname',
      'meshexec agent: invalid --runtime: expected docker or noop, got "podman"',
      'meshexec agent: invalid --max-queued: expected a positive integer, got "many"',
    ]);
  });

  it("a busy REST port is one line naming the address and --rest-listen, exit 2, for gateway and dev", async () => {
    const gateway = spawn("gateway", ["gateway", "--rest-listen", busyAddress]);
    expect(await refusal(gateway)).to.deep.equal([
      `meshexec gateway: cannot listen on ${busyAddress} (--rest-listen): the address is already in use; set --rest-listen or MESHEXEC_REST_LISTEN to another HOST:PORT`,
    ]);
    const dev = spawn("dev", ["dev", "--rest-listen", busyAddress, "--grpc-listen", "127.0.0.1:0", "--data-dir", dataDir()], {});
    // dev's router listened before its edge tried: the one line still names the REST flag.
    expect((await dev.exited).code, dev.stderr).to.equal(2);
    expect(dev.stderr.trim().split("\n")).to.deep.equal([
      `meshexec dev: cannot listen on ${busyAddress} (--rest-listen): the address is already in use; set --rest-listen or MESHEXEC_REST_LISTEN to another HOST:PORT`,
    ]);
  });

  it("a busy gRPC or metrics port is one line naming the address and its flag, exit 2", async () => {
    const router = spawn("router", ["router", "--grpc-listen", busyAddress, "--data-dir", dataDir()]);
    expect(await refusal(router)).to.deep.equal([
      `meshexec router: cannot listen on ${busyAddress} (--grpc-listen): the address is already in use; set --grpc-listen or MESHEXEC_GRPC_LISTEN to another HOST:PORT`,
    ]);
    const dev = spawn("dev", ["dev", "--rest-listen", "127.0.0.1:0", "--grpc-listen", busyAddress, "--data-dir", dataDir()], {});
    expect(await refusal(dev)).to.deep.equal([
      `meshexec dev: cannot listen on ${busyAddress} (--grpc-listen): the address is already in use; set --grpc-listen or MESHEXEC_GRPC_LISTEN to another HOST:PORT`,
    ]);
    const gateway = spawn("gateway", ["gateway", "--rest-listen", "127.0.0.1:0", "--metrics-listen", busyAddress]);
    expect(await refusal(gateway)).to.deep.equal([
      `meshexec gateway: cannot listen on ${busyAddress} (--metrics-listen): the address is already in use; set --metrics-listen or MESHEXEC_METRICS_LISTEN to another HOST:PORT`,
    ]);
  });

  it("takes the old --listen (and MESHEXEC_LISTEN) as what it meant in each command, with a warning", async () => {
    const router = spawn("router", ["router", "--listen", "127.0.0.1:0", "--data-dir", dataDir()]);
    await router.listeningPort("router listening");
    expect(router.stderr).to.equal(
      "meshexec router: warning: --listen (MESHEXEC_LISTEN) is deprecated and will be removed: here it is --grpc-listen (MESHEXEC_GRPC_LISTEN)\n",
    );
    const gateway = spawn("gateway", ["gateway"], { ...secret, MESHEXEC_LISTEN: "127.0.0.1:0" });
    await gateway.listeningPort("gateway listening");
    expect(gateway.stderr).to.include("here it is --rest-listen (MESHEXEC_REST_LISTEN)");

    const both = spawn("gateway", ["gateway", "--listen", "127.0.0.1:0", "--rest-listen", "127.0.0.1:0"]);
    expect(await refusal(both)).to.deep.equal(["meshexec gateway: invalid --listen: --listen is the old name of --rest-listen; give only --rest-listen"]);
  });
});
