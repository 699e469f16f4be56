import { expect } from "chai";
import { foldHostnames } from "../../src/cli/output/fold-hostnames.js";
import { runCli } from "../support/run-cli.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";

const HOSTS = ["web-01", "web-02", "web-03", "web-04", "db-1", "db-2"];

/** meshexec exec's grouped output (dshbak -c) over several real agents, through the real CLI. */
describe("grouped output over six agents (real Docker, real CLI)", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;
  let env: Record<string, string>;

  before(async () => {
    [stack, box] = await Promise.all([TestStack.start(HOSTS.map((hostname) => ({ hostname }))), containers.start()]);
    env = { MESHEXEC_GATEWAY: stack.gatewayUrl, MESHEXEC_TOKEN: await stack.token() };
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  /** The first host to take the lock says so; every other says the same thing. */
  const oneDiffers = (lock: string) => ["sh", "-c", `if mkdir /tmp/${lock} 2>/dev/null; then echo first; else echo same; echo warn >&2; fi`];

  it("prints identical output once under the folded host list, the odd host apart, and the table per host", async () => {
    const run = await runCli(["exec", "--target", "_all", "--container", box, "--", ...oneDiffers("group-lock")], env);
    expect(run.code, run.stderr).to.equal(0);
    for (const host of HOSTS) expect(run.stdout).to.match(new RegExp(`^${host} +ok +0 `, "m"));
    const [, first] = /^==> (\S+) stdout <==\nfirst\n/m.exec(run.stdout) ?? [];
    expect(HOSTS).to.include(first);
    const others = foldHostnames(HOSTS.filter((h) => h !== first));
    expect(run.stdout).to.include(`==> ${others} (5 hosts) stdout <==\nsame\n`).and.include(`==> ${others} (5 hosts) stderr <==\nwarn\n`);
    expect(run.stdout.match(/^==> /gm)).to.have.length(3);
  });

  it("prints each host on its own with --no-group, and never groups --json", async () => {
    const apart = await runCli(["exec", "--target", "_all", "--container", box, "--no-group", "--", "echo", "same"], env);
    for (const host of HOSTS) expect(apart.stdout).to.include(`==> ${host} stdout <==\nsame\n`);
    const json = await runCli(["exec", "--target", "_all", "--container", box, "--json", "--", "echo", "same"], env);
    expect(JSON.parse(json.stdout).results.map((r: { hostname: string }) => r.hostname)).to.deep.equal([...HOSTS].sort());
  });
});
