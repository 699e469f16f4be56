import { expect } from "chai";
import { waitFor } from "../test/support/wait-for.js";
import { OUTPUT_PIECE_MAX_BYTES, OutputCoalescer } from "./output-coalescer.js";

describe("OutputCoalescer", () => {
  it("gathers many small writes into pieces of at most 16 KiB, in order, and sends the rest on close", () => {
    const sent: Array<[string, string]> = [];
    const coalescer = new OutputCoalescer((stream, data) => sent.push([stream, data.toString()]));
    const line = "0123456789abcdef\n";
    for (let i = 0; i < 2_000; i++) coalescer.push("stdout", Buffer.from(line));
    coalescer.push("stderr", Buffer.from("err\n"));
    expect(sent.map(([, data]) => data.length)).to.deep.equal([OUTPUT_PIECE_MAX_BYTES, OUTPUT_PIECE_MAX_BYTES]);
    coalescer.close();
    expect(
      sent
        .filter(([stream]) => stream === "stdout")
        .map(([, data]) => data)
        .join(""),
    ).to.equal(line.repeat(2_000));
    expect(sent.filter(([stream]) => stream === "stderr")).to.deep.equal([["stderr", "err\n"]]);
  });

  it("sends a small write on its own once the interval passes, with nothing closing it", async () => {
    const sent: string[] = [];
    const coalescer = new OutputCoalescer((_, data) => sent.push(data.toString()));
    coalescer.push("stdout", Buffer.from("a\n"));
    coalescer.push("stdout", Buffer.from("b\n"));
    expect(sent).to.deep.equal([]);
    await waitFor("the timed piece", () => sent.length > 0);
    expect(sent).to.deep.equal(["a\nb\n"]);
    coalescer.close();
    expect(sent).to.have.length(1);
  });
});
