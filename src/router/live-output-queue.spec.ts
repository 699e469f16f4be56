import { expect } from "chai";
import type { StreamExecContainerResponse } from "../gen/meshexec/v1/exec.js";
import { LiveOutputQueue } from "./live-output-queue.js";

/** A call whose reader takes nothing until told: each write's callback waits in `unsent`. */
function stalledCall() {
  const written: StreamExecContainerResponse[] = [];
  const unsent: Array<() => void> = [];
  return {
    written,
    sendAll: () => unsent.splice(0).forEach((done) => done()),
    write(event: StreamExecContainerResponse, done: () => void) {
      written.push(event);
      unsent.push(done);
      return true;
    },
  };
}

describe("LiveOutputQueue", () => {
  it("writes while what waits stays under the limit, frees room as messages go out", () => {
    const call = stalledCall();
    const queue = new LiveOutputQueue(call, 10);
    queue.write("h", "stdout", "12345");
    queue.write("h", "stdout", "67890");
    call.sendAll();
    queue.write("h", "stderr", "abcdefghij");
    expect(call.written.map((e) => e.event?.$case)).to.deep.equal(["output", "output", "output"]);
  });

  it("past the limit sends one output_dropped and no output event after it, even once the reader catches up", () => {
    const call = stalledCall();
    const queue = new LiveOutputQueue(call, 10);
    queue.write("h", "stdout", "12345678");
    queue.write("h", "stdout", "abc");
    queue.write("h", "stdout", "d");
    call.sendAll();
    queue.write("h", "stdout", "e");
    expect(call.written.map((e) => e.event?.$case)).to.deep.equal(["output", "outputDropped"]);
    expect(call.written[1].event).to.deep.equal({ $case: "outputDropped", value: { queueLimitBytes: 10 } });
  });
});
