import { expect } from "chai";
import { ExecSlots } from "./exec-slots.js";

describe("ExecSlots", () => {
  it("runs up to the limit, queues up to the queue's size, refuses past it", async () => {
    const slots = new ExecSlots(2, 1);
    const a = await slots.acquire();
    const b = await slots.acquire();
    let queuedGotSlot = false;
    const queued = slots.acquire().then((release) => ((queuedGotSlot = true), release));
    expect(await slots.acquire()).to.equal(undefined);
    expect(slots.inUse).to.equal(3);
    expect(queuedGotSlot).to.equal(false);
    a!();
    const c = await queued;
    expect(c).to.be.a("function");
    b!();
    c!();
    expect(slots.inUse).to.equal(0);
  });
  it("ignores a second release of the same slot", async () => {
    const slots = new ExecSlots(1, 0);
    const release = await slots.acquire();
    release!();
    release!();
    expect(slots.inUse).to.equal(0);
    expect(await slots.acquire()).to.be.a("function");
    expect(await slots.acquire()).to.equal(undefined);
  });
});
