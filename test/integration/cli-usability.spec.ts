import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSigningKey, mintToken } from "../../src/auth/index.js";
import { runCli, startCli, type CliRun } from "../support/run-cli.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

const JOB_ID = /^job\s+([0-9a-f-]{36})$/m;
const UNREACHABLE = "http://127.0.0.1:1";

describe("meshexec's client commands, as a new user meets them (child processes against a real stack)", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;
  let env: Record<string, string>;

  before(async () => {
    [stack, box] = await Promise.all([
      TestStack.start([
        { hostname: "use-a", labels: { role: "web" } },
        { hostname: "use-b", labels: { role: "db" } },
      ]),
      containers.start(),
    ]);
    env = { MESHEXEC_GATEWAY: stack.gatewayUrl, MESHEXEC_TOKEN: await stack.token(["docker:execute", "agent:read", "job:read", "audit:read"]) };
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  const meshexec = (args: string[], overrides: Record<string, string> = {}) => runCli(args, { ...env, ...overrides });
  const exec = (args: string[], command: string[], overrides: Record<string, string> = {}) =>
    meshexec(["exec", "--container", box, ...args, "--", ...command], overrides);
  const api = async (path: string) => (await stack.request("GET", path, { token: env.MESHEXEC_TOKEN })).body;
  const context = (run: CliRun) => `exit ${run.code}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr}`;
  const tokenFor = (subject: string, scopes: string[]) => mintToken(loadSigningKey({ secret: stack.secret }), { subject, scopes, ttlMs: 600_000 });

  function expectOneLineError(run: CliRun, code: number, line: RegExp): void {
    expect(run.code, context(run)).to.equal(code);
    expect(run.stdout, context(run)).to.equal("");
    expect(run.stderr, context(run)).to.match(/^[^\n]+\n$/);
    expect(run.stderr, context(run)).to.match(line);
  }

  describe("environment variables configure only the command whose flag they mirror", () => {
    before(async () => {
      for (const target of ["use-a", "use-b"]) expect((await exec(["--target", target], ["true"])).code).to.equal(0);
    });

    it("MESHEXEC_TARGET, _STATUS, _LIMIT and _CURSOR, exported for other commands, do not filter or page jobs", async () => {
      const plain = await meshexec(["jobs"]);
      expect(plain.code, context(plain)).to.equal(0);
      const leaky = await meshexec(["jobs"], { MESHEXEC_TARGET: "use-b", MESHEXEC_STATUS: "failed", MESHEXEC_LIMIT: "1", MESHEXEC_CURSOR: "not-a-cursor" });
      expect(leaky.code, context(leaky)).to.equal(0);
      const jobIds = (run: CliRun) => run.stdout.match(/^[0-9a-f-]{36}(?=\s)/gm);
      expect(jobIds(leaky)).to.have.length.of.at.least(2).and.deep.equal(jobIds(plain));
    });

    it("MESHEXEC_TARGET still sets exec's --target", async () => {
      const run = await exec([], ["true"], { MESHEXEC_TARGET: "use-b" });
      expect(run.code, context(run)).to.equal(0);
      expect(run.stdout)
        .to.match(/^use-b\s+ok\s+0\s/m)
        .and.not.to.contain("use-a");
    });

    it("MESHEXEC_TARGET, _CONTAINER, _AGENT and _LABEL do not restrict a token minted with meshexec token", async () => {
      // MESHEXEC_LABEL is meshexec agent's own: read by token, it would refuse a caller's token (--label needs --agent).
      const leaky = { MESHEXEC_TARGET: "use-b", MESHEXEC_CONTAINER: box, MESHEXEC_AGENT: "use-b", MESHEXEC_LABEL: "role=web" };
      const run = await runCli(["token", "--subject", "x", "--scope", "docker:execute"], { MESHEXEC_JWT_SECRET: stack.secret, ...leaky });
      expect(run.code, context(run)).to.equal(0);
      const claims = JSON.parse(Buffer.from(run.stdout.trim().split(".")[1], "base64url").toString());
      expect(claims.sub).to.equal("x");
      expect(claims).not.to.have.property("meshexec_targets");
      expect(claims).not.to.have.property("meshexec_containers");
    });

    it("MESHEXEC_IDEMPOTENCY_KEY is not read: two execs are two jobs", async () => {
      const [first, second] = [
        await exec([], ["true"], { MESHEXEC_IDEMPOTENCY_KEY: "k-env" }),
        await exec([], ["true"], { MESHEXEC_IDEMPOTENCY_KEY: "k-env" }),
      ];
      expect(JOB_ID.exec(first.stdout)![1], context(second)).not.to.equal(JOB_ID.exec(second.stdout)![1]);
    });

    it("--help says which flags are command line only, and main --help states the rule", async () => {
      const jobs = await meshexec(["jobs", "--help"]);
      for (const flag of ["target", "status", "limit", "cursor"])
        expect(jobs.stdout).to.match(new RegExp(`--${flag} VALUE\\n.*\\n\\s+env: none: command line only\\n`));
      expect(jobs.stdout).to.match(/--gateway VALUE\n.*\n\s+env: MESHEXEC_GATEWAY\n/);
      const main = await meshexec(["--help"]);
      expect(main.code, context(main)).to.equal(0);
      expect(main.stdout).to.contain("Filters, paging and --idempotency-key are\nread from the command line only");
    });
  });

  describe("bad flags are named in the CLI's terms, with their limits, before any call", () => {
    // An unreachable edge: a flag that got as far as a call would exit 6, not 2.
    const refused = (args: string[], command = ["true"]) =>
      meshexec(["exec", "--container", box, ...args, "--", ...command], { MESHEXEC_GATEWAY: UNREACHABLE });

    it("--timeout past 1h, under 1s or fractional", async () => {
      expectOneLineError(
        await refused(["--timeout", "2h"]),
        2,
        /^meshexec exec: invalid --timeout: --timeout is a whole number of seconds from 1s to 1h, got "2h"$/m,
      );
      expectOneLineError(await refused(["--timeout", "0"]), 2, /invalid --timeout: .* from 1s to 1h, got "0"/);
      expectOneLineError(await refused(["--timeout", "1.5s"]), 2, /invalid --timeout: .*got "1.5s"/);
    });

    it("--container, --env, --workdir and --idempotency-key", async () => {
      expectOneLineError(
        await meshexec(["exec", "--container", "bad/name", "--", "true"], { MESHEXEC_GATEWAY: UNREACHABLE }),
        2,
        /invalid --container: --container is a container name or id/,
      );
      expectOneLineError(await refused(["--env", "NO_EQUALS"]), 2, /invalid --env: --env is KEY=VALUE/);
      expectOneLineError(await refused(["--env", "1X=secret"]), 2, /invalid --env: --env's KEY must match .*, got "1X"$/m);
      expect((await refused(["--env", "1X=secret"])).stderr).not.to.contain("secret");
      expectOneLineError(await refused(["--workdir", "tmp"]), 2, /invalid --workdir: --workdir is an absolute directory, got "tmp"/);
      expectOneLineError(await refused(["--idempotency-key", "has space"]), 2, /invalid --idempotency-key: .*1 to 255 printable ASCII/);
    });

    it("--max-concurrency and --max-errors", async () => {
      expectOneLineError(
        await refused(["--max-concurrency", "150%"]),
        2,
        /^meshexec exec: invalid --max-concurrency: --max-concurrency must be a whole number 1 to 1000000 or a percentage "1%" to "100%", got "150%"$/m,
      );
      expectOneLineError(await refused(["--max-errors", "0"]), 2, /invalid --max-errors: .*got "0"/);
    });

    it("jobs --limit and --status", async () => {
      const jobs = (args: string[]) => meshexec(["jobs", ...args], { MESHEXEC_GATEWAY: UNREACHABLE });
      expectOneLineError(await jobs(["--limit", "500"]), 2, /^meshexec jobs: invalid --limit: --limit is 1 to 100, got 500$/m);
      expectOneLineError(
        await jobs(["--status", "done"]),
        2,
        /^meshexec jobs: invalid --status: --status is one of running, completed, partial_failure, failed, cancelled, got "done"$/m,
      );
    });
  });

  describe("a command typed without --", () => {
    for (const command of [["uname"], ["ls", "-l"], ["ls", "-l", "--all", "/"]]) {
      it(`\`exec --container c ${command.join(" ")}\` gets the hint to put it after --`, async () => {
        const run = await meshexec(["exec", "--container", box, ...command], { MESHEXEC_GATEWAY: UNREACHABLE });
        expectOneLineError(
          run,
          2,
          new RegExp(
            `^meshexec exec: command before --: "${command[0]}" is not a flag; put the command after --, e\\.g\\. meshexec exec --container web -- ls -l /$`,
            "m",
          ),
        );
      });
    }

    it("a flag's value that looks like a flag is one line too", async () => {
      expectOneLineError(await meshexec(["exec", "--container", "-x", "--", "true"]), 2, /^meshexec exec: invalid command line: .*'--container=-XYZ'/);
    });

    it("an unknown flag with no command word is still the parser's error", async () => {
      expectOneLineError(await meshexec(["exec", "--container", box, "--nope"]), 2, /^meshexec exec: invalid command line: .*--nope/);
    });
  });

  describe("jobs", () => {
    it("says there are none, rather than printing a lone header", async () => {
      const run = await meshexec(["jobs"], { MESHEXEC_TOKEN: await tokenFor("newcomer", ["job:read"]) });
      expect(run.code, context(run)).to.equal(0);
      expect(run.stdout).to.equal("no jobs yet\n");
      const filtered = await meshexec(["jobs", "--target", "nowhere", "--status", "failed"]);
      expect(filtered.stdout, context(filtered)).to.equal("no jobs match --target nowhere --status failed\n");
    });

    it("job cancel kills a running job and prints it cancelled; an ended one is exit 5, an unknown one exit 4", async () => {
      const started = await exec(["--target", "use-a", "--async"], ["sleep", "34"]);
      const [, jobId] = /job ([0-9a-f-]{36}) accepted/.exec(started.stdout) ?? [];
      expect(jobId, context(started)).to.be.a("string");
      await waitFor("the sleep", async () => (await containers.countRunning(box, "sleep 34")) === 1);
      const cancel = await meshexec(["job", "cancel", jobId]);
      expect(cancel.code, context(cancel)).to.equal(0);
      expect(cancel.stdout)
        .to.match(/^status +cancelled$/m)
        .and.to.match(/^use-a +cancelled/m);
      await waitFor("the sleep killed", async () => (await containers.countRunning(box, "sleep 34")) === 0);
      expectOneLineError(await meshexec(["job", "cancel", jobId]), 5, /^meshexec job cancel: job finished: job .* has already ended cancelled$/m);
      expectOneLineError(await meshexec(["job", "cancel", "no-such-job"]), 4, /^meshexec job cancel: job not found/m);
    });

    it("--help lists the exit codes jobs uses, not exec's", async () => {
      const jobs = await meshexec(["jobs", "--help"]);
      expect(jobs.stdout).to.match(/^\s+0 {2}the page was listed, even an empty one$/m);
      expect(jobs.stdout)
        .not.to.match(/^\s+1 {2}/m)
        .and.not.to.contain("every targeted host");
      const exec = await meshexec(["exec", "--help"]);
      expect(exec.stdout)
        .to.match(/^\s+0 {2}every targeted host ran the command and it exited 0$/m)
        .and.to.match(/^\s+130 {2}interrupted/m);
    });
  });

  describe("audit", () => {
    it("lists the audit log newest first, --json prints GET /audit, and pages with --cursor", async () => {
      const marker = `audit-${Date.now()}`;
      expect((await exec(["--target", "use-a"], ["echo", marker])).code).to.equal(0);
      const run = await meshexec(["audit", "--limit", "1"]);
      expect(run.code, context(run)).to.equal(0);
      const lines = run.stdout.trimEnd().split("\n");
      expect(lines[0]).to.match(/^TIME\s+SUBJECT\s+HTTP\s+TARGET\s+CONTAINER\s+JOB\s+COMMAND\s+ERROR$/);
      expect(lines[1]).to.match(
        new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ \\(\\d+s ago\\)\\s+test\\s+202\\s+use-a\\s+${box}\\s+[0-9a-f-]{36}\\s+echo ${marker}\\s+-$`),
      );
      const [, cursor] = /\nmore: meshexec audit --cursor (\S+)\n$/.exec(run.stdout) ?? [];
      expect(cursor, context(run)).to.be.a("string");
      const next = await meshexec(["audit", "--limit", "1", "--cursor", cursor]);
      expect(next.code, context(next)).to.equal(0);
      expect(next.stdout).not.to.contain(marker);

      const json = await meshexec(["audit", "--limit", "2", "--json"]);
      expect(JSON.parse(json.stdout)).to.deep.equal(await api("/audit?limit=2"));
    });

    it("without audit:read: exit 3, naming the scope", async () => {
      expectOneLineError(await meshexec(["audit"], { MESHEXEC_TOKEN: await stack.token(["job:read"]) }), 3, /^meshexec audit: missing scope: .*audit:read/);
    });
  });

  describe("exec --idempotency-key", () => {
    it("sends Idempotency-Key: the same key and request give the same job; another request with it is refused, exit 5", async () => {
      const key = `key-${Date.now()}`;
      const first = await exec(["--target", "use-a", "--idempotency-key", key], ["echo", "once"]);
      const again = await exec(["--target", "use-a", "--idempotency-key", key], ["echo", "once"]);
      expect(first.code, context(first)).to.equal(0);
      expect(again.code, context(again)).to.equal(0);
      expect(JOB_ID.exec(again.stdout)![1]).to.equal(JOB_ID.exec(first.stdout)![1]);
      expectOneLineError(await exec(["--target", "use-a", "--idempotency-key", key], ["echo", "other"]), 5, /^meshexec exec: /);
    });
  });

  // Label targets: one host on a terminal would follow its output instead of drawing the progress line.
  describe("on a terminal", () => {
    it("Ctrl-C while waiting prints the job's id, cancels the job (its process killed) and exits 130", async () => {
      const running = startCli(["exec", "--container", box, "--target", "role:db", "--", "sleep", "33"], env, { tty: true });
      await waitFor("the progress line", () => running.output().stdout.includes("0/1 hosts done"));
      await waitFor("the sleep", async () => (await containers.countRunning(box, "sleep 33")) === 1);
      running.type("\x03");
      const run = await running.done;
      expect(run.code, context(run)).to.equal(130);
      const [, jobId] = /meshexec exec: job ([0-9a-f-]{36}) cancelled; see what it did with: meshexec job \1\r?\n/.exec(run.stdout) ?? [];
      expect(jobId, context(run)).to.be.a("string");
      const job = await api(`/job/${jobId}`);
      expect(job).to.include({ target: "role:db", status: "cancelled" });
      expect(job.results[0].status).to.equal("cancelled");
      await waitFor("the sleep killed", async () => (await containers.countRunning(box, "sleep 33")) === 0);
    });

    it("the progress line counts elapsed time against the time limit while no host is done", async () => {
      const run = await runCli(["exec", "--container", box, "--target", "role:web", "--timeout", "30s", "--", "sleep", "3"], env, { tty: true });
      expect(run.code, context(run)).to.equal(0);
      expect(run.stdout).to.contain("meshexec exec: 0/1 hosts done, 0s elapsed (time limit 30s)");
      // Redrawn each second while the command sleeps, not only when a host finishes.
      expect(run.stdout).to.match(/meshexec exec: 0\/1 hosts done, [12]s elapsed \(time limit 30s\)/);
    });
  });

  it("make install's script puts meshexec on the PATH, running this checkout's build", () => {
    const prefix = mkdtempSync(join(tmpdir(), "meshexec-prefix-"));
    try {
      execFileSync("bash", [new URL("../../scripts/install-cli.sh", import.meta.url).pathname], { env: { ...process.env, PREFIX: prefix } });
      const help = execFileSync("meshexec", ["--help"], { env: { PATH: `${join(prefix, "bin")}:${process.env.PATH}` }, encoding: "utf8" });
      expect(help).to.match(/^Usage: meshexec <command>/m);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  describe("start-up: loads only what the command uses", () => {
    /** Every module the CLI loaded, as Node's ESM loader reports them under NODE_DEBUG=esm. */
    const modulesLoaded = async (args: string[]) => {
      const run = await runCli(args, { MESHEXEC_GATEWAY: UNREACHABLE, NODE_DEBUG: "esm" });
      return [...new Set(run.stderr.match(/(?<=Storing )file:\/\/\S+/g) ?? [])];
    };

    it("meshexec --help loads no command's module", async () => {
      const loaded = await modulesLoaded(["--help"]);
      expect(
        loaded.some((url) => url.endsWith("/cli/main.js")),
        loaded.join("\n"),
      ).to.equal(true);
      expect(loaded.filter((url) => /\/cli\/(router|gateway|agent|dev|exec|jobs|audit)\.js$/.test(url))).to.deep.equal([]);
    });

    it("a client command loads grpc-js's status codes only, not its HTTP/2 stack (~35 ms)", async () => {
      for (const command of ["jobs", "exec"]) {
        const loaded = await modulesLoaded([command, "--help"]);
        expect(
          loaded.some((url) => url.endsWith(`/cli/${command}.js`)),
          loaded.join("\n"),
        ).to.equal(true);
        expect(loaded.filter((url) => url.includes("/node_modules/")).map((url) => url.replace(/.*\/node_modules\//, ""))).to.deep.equal([
          "@grpc/grpc-js/build/src/constants.js",
        ]);
      }
    });
  });

  it("a --gateway naming the router's gRPC port says what is likely wrong, exit 6", async () => {
    const run = await exec([], ["true"], { MESHEXEC_GATEWAY: `http://${stack.routerAddress}` });
    expectOneLineError(
      run,
      6,
      /^meshexec exec: cannot reach the edge at http:\/\/127\.0\.0\.1:\d+: HPE_\w+ \(it answered something that is not HTTP\/1\.1: is --gateway the edge's REST address, and not the router's gRPC port\?\)$/m,
    );
  });
});
