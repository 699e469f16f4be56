import { expect } from "chai";
import type { ExecCompleted } from "../gen/meshexec/v1/agent.js";
import { ExecFailureReason } from "../gen/meshexec/v1/agent.js";
import type { HostOutcome } from "./agent-session.js";
import { KeptOutput } from "./kept-output.js";

const completed = (stdout: string, stderr = ""): HostOutcome & { $case: "completed" } => ({
  $case: "completed",
  value: { stdout, stderr, exitCode: 0, timedOut: false, stdoutTruncated: false, stderrTruncated: false, durationMs: 1 },
});
const kept = (outcome: HostOutcome) => (outcome as { value: ExecCompleted }).value;

describe("KeptOutput", () => {
  it("cuts a stream past the per-host cap and flags it, as an agent that ignored its cap would have had to", () => {
    const keeper = new KeptOutput({ env: [], hostOutputLimitBytes: 10, totalOutputLimitBytes: 1_000 });
    const run = kept(keeper.keep(completed("x".repeat(25), "short")));
    expect(run).to.include({ stdout: "x".repeat(10), stdoutTruncated: true, stderr: "short", stderrTruncated: false });
  });

  it("never cuts a character in half", () => {
    const keeper = new KeptOutput({ env: [], hostOutputLimitBytes: 5, totalOutputLimitBytes: 1_000 });
    expect(kept(keeper.keep(completed("ééé"))).stdout).to.equal("éé");
  });

  it("truncates the hosts that answer once the fan-out's total is spent, and flags them", () => {
    const keeper = new KeptOutput({ env: [], hostOutputLimitBytes: 100, totalOutputLimitBytes: 150 });
    const runs = [completed("a".repeat(100)), completed("b".repeat(100)), completed("c".repeat(100))].map((o) => kept(keeper.keep(o)));
    expect(runs.map((r) => [r.stdout.length, r.stdoutTruncated])).to.deep.equal([
      [100, false],
      [50, true],
      [0, true],
    ]);
    // A host with nothing to say is not marked truncated.
    expect(kept(keeper.keep(completed(""))).stdoutTruncated).to.equal(false);
  });

  it("masks env values in output and in the engine's error text", () => {
    const keeper = new KeptOutput({ env: ["TOKEN=hunter22", "A=1", "EMPTY="], hostOutputLimitBytes: 1_000, totalOutputLimitBytes: 1_000 });
    const run = kept(keeper.keep(completed("TOKEN=hunter22\nA=1\nthe answer is 1\n", "got hunter22")));
    expect(run.stdout).to.equal("TOKEN=***\nA=***\nthe answer is 1\n");
    expect(run.stderr).to.equal("got ***");
    const failed: HostOutcome = {
      $case: "failed",
      value: { reason: ExecFailureReason.EXEC_FAILURE_REASON_UNSPECIFIED, message: 'invalid env "TOKEN=hunter22"' },
    };
    expect((keeper.keep(failed) as { value: { message: string } }).value.message).to.equal('invalid env "TOKEN=***"');
  });

  it("masks a value as an error text quotes it, JSON-escaped", () => {
    const keeper = new KeptOutput({ env: ['P=a"b\\c'], hostOutputLimitBytes: 1_000, totalOutputLimitBytes: 1_000 });
    expect(kept(keeper.keep(completed('spec: {"Env":["P=a\\"b\\\\c"]}'))).stdout).to.equal('spec: {"Env":["P=***"]}');
  });
});
