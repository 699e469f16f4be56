import { expect } from "chai";
import { once } from "node:events";
import http from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { runCli, type CliRun } from "../support/run-cli.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

const JOB_ID = /^job\s+([0-9a-f-]{36})$/m;

describe("meshexec exec / agents / job / jobs, run as a child process against a real stack", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;
  let env: Record<string, string>;

  before(async () => {
    [stack, box] = await Promise.all([
      TestStack.start([
        { hostname: "cli-a", labels: { role: "web", zone: "east" } },
        { hostname: "cli-b", labels: { role: "db" } },
      ]),
      containers.start(),
    ]);
    env = { MESHEXEC_GATEWAY: stack.gatewayUrl, MESHEXEC_TOKEN: await stack.token(["docker:execute", "agent:read", "job:read"]) };
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

  /** A run that failed before anything ran: nothing on stdout, one line on stderr naming the cause. */
  function expectOneLineError(run: CliRun, code: number, line: RegExp): void {
    expect(run.code, context(run)).to.equal(code);
    expect(run.stdout, context(run)).to.equal("");
    expect(run.stderr, context(run)).to.match(/^[^\n]+\n$/);
    expect(run.stderr, context(run)).to.match(line);
  }

  describe("exec", () => {
    it("exits 0 and prints the job, the HOST/STATUS/EXIT/DURATION table and each stream in its own section", async () => {
      const run = await exec(["--target", "cli-a"], ["sh", "-c", "echo hello; echo oops >&2"]);
      expect(run.code, context(run)).to.equal(0);
      expect(run.stdout).to.match(JOB_ID);
      expect(run.stdout).to.match(/^HOST\s+STATUS\s+EXIT\s+DURATION$/m);
      expect(run.stdout).to.match(/^cli-a\s+ok\s+0\s+\d+(\.\d)? m?s$/m);
      expect(run.stdout).to.contain("==> cli-a stdout <==\nhello\n");
      expect(run.stdout).to.contain("==> cli-a stderr <==\noops\n");
      // Not a terminal: no progress line, so stderr stays empty.
      expect(run.stderr).to.equal("");
    });

    it("on a terminal, counts hosts done out of targeted on a progress line while results stream in, then clears it", async () => {
      const run = await runCli(["exec", "--container", box, "--target", "_all", "--", "echo", "x"], env, { tty: true });
      expect(run.code, context(run)).to.equal(0);
      const clear = "\r\x1b[2K";
      expect(run.stdout).to.contain(`${clear}meshexec exec: 0/2 hosts done, `);
      expect(run.stdout).to.contain(`${clear}meshexec exec: 2/2 hosts done, `);
      // Cleared before the results are printed, so none of it is left among them.
      expect(run.stdout).to.match(/2\/2 hosts done, \d+s elapsed \(time limit 1m\)\r\x1b\[2Kjob\s+[0-9a-f-]{36}\r?\n/);
      expect(run.stdout).to.match(/^cli-a\s+ok\s+0\s/m);
    });

    it("runs on one agent by default (_any)", async () => {
      const run = await exec([], ["true"]);
      expect(run.code, context(run)).to.equal(0);
      expect(run.stdout.match(/^cli-[ab]\s+ok\s+0\s/gm)).to.have.length(1);
    });

    it("exits 1 when a host's command exits non-zero, and shows that exit code", async () => {
      const run = await exec(["--target", "cli-b"], ["sh", "-c", "echo bad >&2; exit 3"]);
      expect(run.code, context(run)).to.equal(1);
      expect(run.stdout).to.match(/^cli-b\s+ok\s+3\s/m);
      expect(run.stdout).to.contain("==> cli-b stderr <==\nbad\n");
      expect(run.stderr).to.equal("");
    });

    it("passes everything after -- as argv exactly: spaces, commas, $, quotes, an empty argument and --help", async () => {
      const run = await exec(["--target", "cli-a"], ["printf", "%s|", "a b", "c,d,e", "$HOME", `it's "x"`, "", "--help", "--"]);
      expect(run.code, context(run)).to.equal(0);
      expect(run.stdout).to.contain(`==> cli-a stdout <==\na b|c,d,e|$HOME|it's "x"||--help|--|\n`);
    });

    it("sets --env (repeatable, values with = and commas) and --workdir", async () => {
      const run = await exec(
        ["--target", "cli-a", "--env", "GREETING=hello", "--env", "WHO=a=b, c", "--workdir", "/tmp"],
        ["sh", "-c", 'echo "$GREETING $WHO" | tr a-z A-Z; pwd'],
      );
      expect(run.code, context(run)).to.equal(0);
      // Upper-cased, because the values themselves are masked in what comes back.
      expect(run.stdout).to.contain("==> cli-a stdout <==\nHELLO A=B, C\n/tmp\n");
    });

    it("runs --target _all on every agent and a key:value label on those carrying it", async () => {
      const all = await exec(["--target", "_all"], ["echo", "x"]);
      expect(all.code, context(all)).to.equal(0);
      expect(all.stdout.match(/^cli-[ab](?=\s+ok\s+0\s)/gm)).to.deep.equal(["cli-a", "cli-b"]);
      // The same output from both: printed once, under both names (dshbak -c); the table stays per host.
      expect(all.stdout).to.contain("==> cli-a,cli-b (2 hosts) stdout <==\nx\n").and.not.to.contain("==> cli-a stdout");
      const apart = await exec(["--target", "_all", "--no-group"], ["echo", "x"]);
      expect(apart.stdout).to.contain("==> cli-a stdout <==\nx\n").and.to.contain("==> cli-b stdout <==\nx\n");

      const label = await exec(["--target", "role:db"], ["echo", "x"]);
      expect(label.code, context(label)).to.equal(0);
      expect(label.stdout).to.match(/^cli-b\s+ok\s+0\s/m);
      expect(label.stdout).not.to.contain("cli-a");
    });

    it("exits 1 and shows each host's error when the container is missing on _all", async () => {
      const run = await meshexec(["exec", "--target", "_all", "--container", "no-such-container", "--", "true"]);
      expect(run.code, context(run)).to.equal(1);
      expect(run.stdout)
        .to.match(/^cli-a\s+failed\s+-\s/m)
        .and.to.match(/^cli-b\s+failed\s+-\s/m);
      expect(run.stdout).to.match(/==> cli-a,cli-b \(2 hosts\) error <==\n.*no-such-container/);
    });

    it("marks output the agent cut at its cap as [truncated], in the header and at the end", async () => {
      const run = await exec(["--target", "cli-b"], ["sh", "-c", "yes | head -c 2000000"]);
      expect(run.code, context(run)).to.equal(0);
      expect(run.stdout).to.contain("==> cli-b stdout [truncated] <==\ny\ny\n");
      expect(run.stdout).to.match(/\n\[truncated\]\n$/);
      expect(run.stdout).not.to.contain("==> cli-b stderr");
    });

    it("--json prints the reply as the API's plain one, apart from job id and durations", async () => {
      const command = ["sh", "-c", "echo out; echo err >&2; exit 2"];
      const run = await exec(["--target", "_all", "--json"], command);
      expect(run.code, context(run)).to.equal(1);
      const printed = JSON.parse(run.stdout);
      const direct = (await stack.exec("_all", box, { command, timeout_seconds: 60 })).body;
      const comparable = (body: { job_id: string; results: Array<{ duration_ms: number }> }) => ({
        keys: Object.keys(body),
        results: body.results.map((r) => ({ ...r, duration_ms: typeof r.duration_ms })),
      });
      expect(printed.job_id)
        .to.match(/^[0-9a-f-]{36}$/)
        .and.not.equal(direct.job_id);
      expect(comparable(printed)).to.deep.equal(comparable(direct));
      expect(run.stdout.trimEnd().split("\n")).to.have.length(1);
    });

    it("sends the contract's request, and reads a plain JSON 202 from an edge that does not stream", async () => {
      const received: unknown[] = [];
      const result = {
        hostname: "old-edge",
        status: "ok",
        stdout: "hi\n",
        stderr: "",
        exit_code: 0,
        changed: true,
        error: "",
        duration_ms: 5,
        stdout_truncated: false,
        stderr_truncated: false,
      };
      const edge = http.createServer(async (request, response) => {
        let body = "";
        for await (const chunk of request) body += chunk;
        received.push({ method: request.method, url: request.url, authorization: request.headers.authorization, body: JSON.parse(body) });
        response
          .writeHead(202, { "content-type": "application/json" })
          .end(JSON.stringify({ job_id: "6b1d8f0e-0000-4000-8000-000000000000", results: [result] }));
      });
      edge.listen(0, "127.0.0.1");
      await once(edge, "listening");
      try {
        const run = await runCli(
          ["exec", "--target", "role:web", "--container", "web", "--env", "A=1", "--workdir", "/srv", "--timeout", "2m", "--", "echo", "hi"],
          {
            MESHEXEC_GATEWAY: `http://127.0.0.1:${(edge.address() as AddressInfo).port}`,
            MESHEXEC_TOKEN: "t0k3n",
          },
        );
        expect(run.code, context(run)).to.equal(0);
        expect(run.stdout)
          .to.match(/^old-edge\s+ok\s+0\s+5 ms$/m)
          .and.to.contain("==> old-edge stdout <==\nhi\n");
        expect(received).to.deep.equal([
          {
            method: "POST",
            url: "/node/role%3Aweb/container/docker/web/exec?stream=true&output=false",
            authorization: "Bearer t0k3n",
            body: { command: ["echo", "hi"], env: ["A=1"], working_dir: "/srv", timeout_seconds: 120 },
          },
        ]);
      } finally {
        edge.close();
      }
    });

    it("--async prints the job id at once; the job then completes and `job` shows its result", async () => {
      const run = await exec(["--target", "cli-a", "--async"], ["sh", "-c", "sleep 1; echo later"]);
      expect(run.code, context(run)).to.equal(0);
      const [, jobId] = /^job ([0-9a-f-]{36}) accepted; see it with: meshexec job \1$/m.exec(run.stdout) ?? [];
      expect(jobId, context(run)).to.be.a("string");
      const job = await waitFor("the async job to complete", async () => {
        const shown = await meshexec(["job", jobId]);
        return shown.code === 0 && shown;
      });
      expect(job.stdout)
        .to.match(/^status\s+completed$/m)
        .and.to.contain("==> cli-a stdout <==\nlater\n");
    });
  });

  describe("agents", () => {
    it("prints hostname, labels as key=value, connected since, in flight and the holding router", async () => {
      const run = await meshexec(["agents"]);
      expect(run.code, context(run)).to.equal(0);
      const lines = run.stdout.trimEnd().split("\n");
      expect(lines[0]).to.match(/^HOSTNAME\s+LABELS\s+CONNECTED SINCE\s+IN FLIGHT\s+ROUTER$/);
      expect(lines.slice(1)).to.have.length(2);
      expect(lines[1]).to.match(/^cli-a\s+role=web,zone=east\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+[smhd] ago\)\s+0\s+\S+$/);
      expect(lines[2]).to.match(/^cli-b\s+role=db\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+[smhd] ago\)\s+0\s+\S+$/);
    });

    it("--json prints GET /agents as is", async () => {
      const run = await meshexec(["agents", "--json"]);
      expect(run.code, context(run)).to.equal(0);
      expect(JSON.parse(run.stdout)).to.deep.equal(await api("/agents"));
    });
  });

  describe("job and jobs", () => {
    let jobId: string;
    const command = ["sh", "-c", "echo from $0", "a,b c"];

    before(async () => {
      const run = await exec(["--target", "_all"], command);
      expect(run.code, context(run)).to.equal(0);
      jobId = JOB_ID.exec(run.stdout)![1];
    });

    it("`job ID` lays the job out as exec does, with what ran where", async () => {
      const run = await meshexec(["job", jobId]);
      expect(run.code, context(run)).to.equal(0);
      expect(run.stdout).to.match(new RegExp(`^job\\s+${jobId}$`, "m"));
      expect(run.stdout).to.match(/^status\s+completed$/m);
      expect(run.stdout).to.match(/^target\s+_all$/m);
      expect(run.stdout).to.match(new RegExp(`^container\\s+${box}$`, "m"));
      expect(run.stdout).to.contain(`command    sh -c 'echo from $0' 'a,b c'\n`);
      expect(run.stdout).to.match(/^HOST\s+STATUS\s+EXIT\s+DURATION$/m);
      expect(run.stdout)
        .to.match(/^cli-a\s+ok\s+0\s/m)
        .and.to.match(/^cli-b\s+ok\s+0\s/m);
      expect(run.stdout).to.contain("==> cli-a,cli-b (2 hosts) stdout <==\nfrom a,b c\n");
    });

    it("`job ID --json` prints GET /job/ID as is", async () => {
      const run = await meshexec(["job", jobId, "--json"]);
      expect(run.code, context(run)).to.equal(0);
      expect(JSON.parse(run.stdout)).to.deep.equal(await api(`/job/${jobId}`));
    });

    it("`job ID` exits 1 for a job where a host exited non-zero", async () => {
      const failed = await exec(["--target", "cli-a"], ["sh", "-c", "exit 5"]);
      const run = await meshexec(["job", JOB_ID.exec(failed.stdout)![1]]);
      expect(run.code, context(run)).to.equal(1);
      expect(run.stdout).to.match(/^cli-a\s+ok\s+5\s/m);
    });

    it("`jobs` lists recent jobs newest first, and --json prints GET /jobs as is", async () => {
      const run = await meshexec(["jobs", "--target", "_all"]);
      expect(run.code, context(run)).to.equal(0);
      const lines = run.stdout.trimEnd().split("\n");
      expect(lines[0]).to.match(/^JOB\s+STATUS\s+TARGET\s+CONTAINER\s+HOSTS\s+CREATED\s+COMMAND$/);
      expect(lines[1]).to.match(new RegExp(`^${jobId}\\s+completed\\s+_all\\s+${box}\\s+2\\s+.*sh -c 'echo from \\$0' 'a,b c'$`));

      const json = await meshexec(["jobs", "--limit", "3", "--json"]);
      expect(json.code, context(json)).to.equal(0);
      const page = JSON.parse(json.stdout);
      expect(page).to.deep.equal(await api("/jobs?limit=3"));
      expect(page.jobs).to.have.length(3);
    });

    it("`jobs` ends a full page with the cursor of the next", async () => {
      const first = await meshexec(["jobs", "--limit", "1"]);
      expect(first.code, context(first)).to.equal(0);
      const [, cursor] = /\nmore: meshexec jobs --cursor (\S+)\n$/.exec(first.stdout) ?? [];
      expect(cursor, context(first)).to.be.a("string");
      const second = await meshexec(["jobs", "--limit", "1", "--cursor", cursor]);
      expect(second.code, context(second)).to.equal(0);
      const idOf = (run: CliRun) => run.stdout.split("\n")[1].split(/\s+/)[0];
      expect(idOf(second))
        .to.match(/^[0-9a-f-]{36}$/)
        .and.not.equal(idOf(first));
    });
  });

  describe("--help", () => {
    for (const name of ["exec", "agents", "job", "jobs"]) {
      it(`${name} --help lists each flag with its environment variable and default, and the exit codes`, async () => {
        const run = await meshexec([name, "--help"]);
        expect(run.code, context(run)).to.equal(0);
        expect(run.stdout).to.contain(`Usage: meshexec ${name} `);
        expect(run.stdout).to.match(/--gateway VALUE\n.*\(default: http:\/\/127\.0\.0\.1:8080\)\n\s+env: MESHEXEC_GATEWAY\n/);
        expect(run.stdout).to.match(/--token VALUE\n.*\n\s+env: MESHEXEC_TOKEN\n/);
        expect(run.stdout).to.match(/--json\n.*\n\s+env: MESHEXEC_JSON\n/);
        expect(run.stdout).to.contain("Exit codes:");
      });
    }

    it("exec --help names its own flags, with --target's default _any", async () => {
      const run = await meshexec(["exec", "--help"]);
      expect(run.stdout).to.match(/--target VALUE\n.*\(default: _any\)\n\s+env: MESHEXEC_TARGET\n/);
      for (const flag of ["container", "env", "workdir", "timeout", "async"]) expect(run.stdout).to.contain(`env: MESHEXEC_${flag.toUpperCase()}\n`);
    });
  });

  describe("errors: one line on stderr naming the cause, and an exit code by kind", () => {
    it("a bad token: 401, exit 3", async () => {
      expectOneLineError(await exec([], ["true"], { MESHEXEC_TOKEN: "not-a-jwt" }), 3, /^meshexec exec: unauthenticated: .*malformed/);
    });

    it("no token at all: 401, exit 3, saying how to give one", async () => {
      const { MESHEXEC_TOKEN: _, ...withoutToken } = env;
      const run = await runCli(["agents"], withoutToken);
      expectOneLineError(run, 3, /^meshexec agents: unauthenticated: .*\(no token given: set --token or MESHEXEC_TOKEN\)$/m);
    });

    it("a token without the scope: 403, exit 3, naming the scope", async () => {
      expectOneLineError(await exec([], ["true"], { MESHEXEC_TOKEN: await stack.token(["agent:read"]) }), 3, /^meshexec exec: missing scope: .*docker:execute/);
    });

    it("an unknown target: 404, exit 4, naming the target", async () => {
      expectOneLineError(await exec(["--target", "no-such-host"], ["true"]), 4, /^meshexec exec: no agent matches the target: .*no-such-host/);
    });

    it("a missing container: 404, exit 4", async () => {
      expectOneLineError(
        await meshexec(["exec", "--target", "cli-a", "--container", "no-such-container", "--", "true"]),
        4,
        /^meshexec exec: container not found: /,
      );
    });

    it("an unknown job: 404, exit 4", async () => {
      expectOneLineError(await meshexec(["job", "00000000-0000-0000-0000-000000000000"]), 4, /^meshexec job: job not found: /);
    });

    it("the router down: 503, exit 6", async () => {
      const lonely = await TestStack.start([]);
      try {
        await lonely.router.stop("SIGKILL");
        const run = await exec([], ["true"], { MESHEXEC_GATEWAY: lonely.gatewayUrl, MESHEXEC_TOKEN: await lonely.token() });
        expectOneLineError(run, 6, /^meshexec exec: router unavailable: /);
      } finally {
        await lonely.stop();
      }
    });

    it("the edge unreachable: connection refused, exit 6, naming the URL", async () => {
      const server = createServer().listen(0, "127.0.0.1");
      await once(server, "listening");
      const { port } = server.address() as AddressInfo;
      await new Promise((resolve) => server.close(resolve));
      const run = await exec([], ["true"], { MESHEXEC_GATEWAY: `http://127.0.0.1:${port}` });
      expectOneLineError(run, 6, new RegExp(`^meshexec exec: cannot reach the edge at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED\\n$`));
    });

    it("no --container: a usage error, exit 2, before any call", async () => {
      const run = await meshexec(["exec", "--", "true"], { MESHEXEC_GATEWAY: "http://127.0.0.1:1" });
      expectOneLineError(run, 2, /^meshexec exec: missing --container: /);
    });

    it("a command not after --: a usage error, exit 2", async () => {
      expectOneLineError(await meshexec(["exec", "--container", box, "ls"]), 2, /^meshexec exec: command before --: .*"ls"/);
    });
  });
});
