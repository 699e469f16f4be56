import { expect } from "chai";
import { BoundedOutput } from "./bounded-output.js";

function writeAll(sink: BoundedOutput, chunks: string[]): Promise<void> {
  return new Promise((resolve) => {
    chunks.forEach((c) => sink.write(Buffer.from(c)));
    sink.end(resolve);
  });
}

describe("BoundedOutput", () => {
  it("keeps everything under the cap", async () => {
    const sink = new BoundedOutput(10);
    await writeAll(sink, ["abc", "def"]);
    expect(sink.text()).to.equal("abcdef");
    expect(sink.truncated).to.equal(false);
  });
  it("keeps exactly the cap, flags truncation and keeps accepting writes", async () => {
    const sink = new BoundedOutput(5);
    await writeAll(sink, ["abc", "defgh", "ijk"]);
    expect(sink.text()).to.equal("abcde");
    expect(sink.truncated).to.equal(true);
  });
  it("is not truncated at exactly the cap", async () => {
    const sink = new BoundedOutput(6);
    await writeAll(sink, ["abc", "def"]);
    expect(sink.truncated).to.equal(false);
  });
});
