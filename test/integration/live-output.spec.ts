import { createHash, randomBytes } from "node:crypto";
import { expect } from "chai";
import { execLimits } from "../../src/contract/index.js";
import { expectErrorShape } from "../support/error-shape.js";
import { runCli, startCli } from "../support/run-cli.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

interface StreamLine {
  type: string;
  [field: string]: any;
}

/** Live output, stdin, exec --follow and -i, and job --wait, on the real engine. */
describe("live output and stdin (router, edge, two agents, real Docker)", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;
  let cliEnv: Record<string, string>;

  before(async () => {
    [stack, box] = await Promise.all([
      TestStack.start([{ hostname: "live-a" }, { hostname: "live-b", args: ["--output-limit", "65536"] }], { routerArgs: ["--agent-output-limit", "65536"] }),
      containers.start(),
    ]);
    cliEnv = { MESHEXEC_GATEWAY: stack.gatewayUrl, MESHEXEC_TOKEN: await stack.token() };
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  /** POSTs a streamed exec and calls `onLine` with each NDJSON line as it arrives. */
  async function streamExec(
    target: string,
    body: unknown,
    onLine: (line: StreamLine) => void | Promise<void> = () => {},
    query = "stream=true",
  ): Promise<StreamLine[]> {
    const response = await fetch(`${stack.gatewayUrl}/node/${target}/container/docker/${box}/exec?${query}`, {
      method: "POST",
      headers: { authorization: `Bearer ${await stack.token()}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status, await (response.status === 200 ? "" : response.clone().text())).to.equal(200);
    const lines: StreamLine[] = [];
    let buffered = "";
    for await (const chunk of response.body!) {
      buffered += Buffer.from(chunk).toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = JSON.parse(buffered.slice(0, nl)) as StreamLine;
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        await onLine(line);
      }
    }
    return lines;
  }

  it("streams output as the command writes it: `a` arrives while the command still runs, before `b` and the result", async () => {
    let runningWhenAArrived: boolean | undefined;
    const lines = await streamExec("live-a", { command: ["sh", "-c", "echo a; sleep 2; echo b"] }, async (line) => {
      if (line.type === "output" && line.data.includes("a") && runningWhenAArrived === undefined) {
        runningWhenAArrived = (await containers.countRunning(box, "sleep 2")) > 0;
      }
    });
    expect(lines.map((l) => l.type)).to.deep.equal(["accepted", "output", "output", "result", "summary"]);
    expect(lines[1]).to.deep.equal({ type: "output", hostname: "live-a", stream: "stdout", data: "a\n" });
    expect(lines[2]).to.deep.equal({ type: "output", hostname: "live-a", stream: "stdout", data: "b\n" });
    expect(runningWhenAArrived).to.equal(true);
    expect(lines[3].result.stdout).to.equal("a\nb\n");
  });

  it("keeps order per host and stream, stderr apart, every host's output before its result", async () => {
    const lines = await streamExec("_all", { command: ["sh", "-c", "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.1; done"] });
    for (const host of ["live-a", "live-b"]) {
      const mine = lines.filter((l) => l.hostname === host || l.result?.hostname === host);
      expect(mine[mine.length - 1].type).to.equal("result");
      const text = (stream: string) =>
        mine
          .filter((l) => l.type === "output" && l.stream === stream)
          .map((l) => l.data)
          .join("");
      expect(text("stdout")).to.equal("out1\nout2\nout3\n");
      expect(text("stderr")).to.equal("err1\nerr2\nerr3\n");
    }
  });

  it("streams nothing past the output cap, and the result still carries the whole kept output", async () => {
    const lines = await streamExec("live-b", { command: ["sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x"] });
    const streamed = lines
      .filter((l) => l.type === "output")
      .map((l) => l.data)
      .join("");
    const result = lines.find((l) => l.type === "result")!.result;
    expect(streamed).to.equal("x".repeat(65536));
    expect(result).to.include({ stdout: streamed, stdout_truncated: true });
  });

  it("masks env values in output events exactly as in results, a value written in two halves too", async () => {
    const secret = "s3cret-value-for-live-output";
    const half = secret.length / 2;
    const script = `printf '%s' "${secret.slice(0, half)}"; sleep 0.3; printf '%s\\n' "${secret.slice(half)}"; echo "$TOKEN"`;
    const lines = await streamExec("live-a", { command: ["sh", "-c", script], env: [`TOKEN=${secret}`] });
    const events = lines.filter((l) => l.type === "output");
    expect(events.length).to.be.greaterThan(0);
    expect(JSON.stringify(lines)).to.not.include(secret.slice(0, half)).and.not.include(secret.slice(half));
    expect(events.map((l) => l.data).join("")).to.equal("***\n***\n");
    expect(lines.find((l) => l.type === "result")!.result.stdout).to.equal("***\n***\n");
  });

  it("sends no output events with ?output=false", async () => {
    const lines = await streamExec("live-a", { command: ["echo", "quiet"] }, () => {}, "stream=true&output=false");
    expect(lines.map((l) => l.type)).to.deep.equal(["accepted", "result", "summary"]);
  });

  it("round-trips binary stdin exactly (stdin_base64 through sha256sum), and text stdin", async () => {
    const data = randomBytes(300_000);
    const reply = await stack.exec("live-a", box, { command: ["sha256sum"], stdin_base64: data.toString("base64") });
    expect(reply.status).to.equal(202);
    expect(reply.body.results[0].stdout.split(" ")[0]).to.equal(createHash("sha256").update(data).digest("hex"));
    const text = await stack.exec("live-a", box, { command: ["cat"], stdin: "héllo\nworld" });
    expect(text.body.results[0].stdout).to.equal("héllo\nworld");
    // Exactly the limit fits in a body; a command that never reads it still ends as it would.
    const ignored = await stack.exec("live-a", box, { command: ["true"], stdin_base64: Buffer.alloc(execLimits.stdinMaxBytes, 7).toString("base64") });
    expect(ignored.status, JSON.stringify(ignored.body).slice(0, 300)).to.equal(202);
    expect(ignored.body.results[0]).to.include({ status: "ok", exit_code: 0 });
    // Without stdin, stdin is closed as before: cat ends at once.
    expect((await stack.exec("live-a", box, { command: ["cat"] })).body.results[0]).to.include({ status: "ok", stdout: "", exit_code: 0 });
  });

  it("refuses stdin and stdin_base64 together, bad base64, and stdin past its limit, naming the field", async () => {
    const both = expectErrorShape(await stack.exec("live-a", box, { command: ["cat"], stdin: "a", stdin_base64: "YQ==" }), 400);
    expect(both.details).to.include("stdin").and.include("stdin_base64");
    expect(expectErrorShape(await stack.exec("live-a", box, { command: ["cat"], stdin_base64: "not base64!" }), 400).details).to.include("stdin_base64");
    const big = expectErrorShape(
      await stack.exec("live-a", box, { command: ["cat"], stdin_base64: Buffer.alloc(execLimits.stdinMaxBytes + 1).toString("base64") }),
      400,
    );
    expect(big.details).to.include("stdin_base64").and.include(String(execLimits.stdinMaxBytes));
  });

  it("meshexec exec -i sends the CLI's standard input, and refuses more than the limit before anything runs", async () => {
    const data = randomBytes(100_000);
    const run = await runCli(["exec", "--target", "live-a", "--container", box, "-i", "--", "sha256sum"], cliEnv, { stdin: data });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include(createHash("sha256").update(data).digest("hex"));
    const marker = `never-${Date.now()}`;
    const tooBig = await runCli(["exec", "--target", "live-a", "--container", box, "-i", "--", "sh", "-c", `touch /tmp/${marker}`], cliEnv, {
      stdin: Buffer.alloc(execLimits.stdinMaxBytes + 1),
    });
    expect(tooBig.code).to.equal(2);
    expect(tooBig.stderr).to.include(String(execLimits.stdinMaxBytes));
    const check = await stack.exec("live-a", box, { command: ["sh", "-c", `test -e /tmp/${marker} && echo ran || echo never`] });
    expect(check.body.results[0].stdout).to.equal("never\n");
  });

  it("meshexec exec --follow prints each line as it comes, prefixed with its host, stderr marked, before the command ends", async () => {
    const cli = startCli(
      ["exec", "--target", "_all", "--container", box, "--follow", "--", "sh", "-c", "echo first; echo oops >&2; sleep 2; echo second"],
      cliEnv,
    );
    await waitFor("the first line", () => cli.output().stdout.includes("live-a | first"));
    expect(await containers.countRunning(box, "sleep 2"), "the command still runs").to.be.greaterThan(0);
    expect(cli.output().stdout).to.not.include("second");
    const run = await cli.done;
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include("live-a | first\n").and.include("live-b | first\n").and.include("live-a ! oops\n").and.include("live-b | second\n");
    // Shown live, so not again below the table.
    expect(run.stdout).to.not.include("==>");
  });

  it("meshexec exec follows by default for one host on a terminal, and not when piped", async () => {
    const onTerminal = await runCli(["exec", "--target", "live-a", "--container", box, "--", "sh", "-c", "echo shown live"], cliEnv, { tty: true });
    expect(onTerminal.code, onTerminal.stdout).to.equal(0);
    expect(onTerminal.stdout).to.include("live-a | shown live").and.not.include("==> live-a stdout");
    const piped = await runCli(["exec", "--target", "live-a", "--container", box, "--", "sh", "-c", "echo shown live"], cliEnv);
    expect(piped.stdout).to.include("==> live-a stdout <==\nshown live\n").and.not.include("live-a | ");
  });

  it("meshexec job ID --wait follows an --async job to its end and prints it as exec does, grouped", async () => {
    const started = await runCli(["exec", "--target", "_all", "--container", box, "--async", "--json", "--", "sh", "-c", "sleep 1; echo done"], cliEnv);
    const jobId = JSON.parse(started.stdout).job_id;
    const run = await runCli(["job", jobId, "--wait"], cliEnv);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(new RegExp(`^job +${jobId}\\n`));
    expect(run.stdout)
      .to.match(/live-a +ok +0 /)
      .and.match(/live-b +ok +0 /);
    expect(run.stdout).to.include("==> live-a,live-b (2 hosts) stdout <==\ndone\n");
  });
});
