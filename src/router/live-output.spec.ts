import { expect } from "chai";
import { OutputStream } from "../gen/meshexec/v1/agent.js";
import { LiveOutput } from "./live-output.js";

const STDOUT = OutputStream.OUTPUT_STREAM_STDOUT;

function collect(env: string[], hostOutputLimitBytes = 1_000, totalOutputLimitBytes = 10_000) {
  const pieces: Array<[string, string, string]> = [];
  const live = new LiveOutput({ env, hostOutputLimitBytes, totalOutputLimitBytes }, (host, stream, data) => pieces.push([host, stream, data]));
  const text = () => pieces.map((p) => p[2]).join("");
  return { live, pieces, text };
}

describe("LiveOutput", () => {
  it("masks an env value split across two pieces, at every split point, without leaking a half", () => {
    const secret = "hunter2-s3cret";
    const whole = `before ${secret} after\n`;
    for (let cut = 1; cut < whole.length; cut++) {
      const { live, pieces, text } = collect([`TOKEN=${secret}`]);
      live.add("h", STDOUT, Buffer.from(whole.slice(0, cut)));
      live.add("h", STDOUT, Buffer.from(whole.slice(cut)));
      live.finish("h");
      expect(text(), `cut at ${cut}`).to.equal("before *** after\n");
      // No piece, nor two neighbours, holds more of the secret than its first character.
      for (const [, , data] of pieces) expect(data).to.not.include(secret.slice(0, 2));
    }
  });

  it("releases a held-back end that never became a value once the host finishes", () => {
    const { live, text } = collect(["TOKEN=abcdef"]);
    live.add("h", STDOUT, Buffer.from("x abc"));
    expect(text()).to.equal("x ");
    live.finish("h");
    expect(text()).to.equal("x abc");
  });

  it("never splits a character across pieces, even when the agent's bytes do", () => {
    const { live, pieces } = collect([]);
    const bytes = Buffer.from("é");
    live.add("h", STDOUT, bytes.subarray(0, 1));
    live.add("h", STDOUT, bytes.subarray(1));
    expect(pieces.map((p) => p[2])).to.deep.equal(["é"]);
  });

  it("stops streaming a host's stream at the per-host cap, and everything at the exec's total", () => {
    const { live, pieces } = collect([], 5, 8);
    live.add("a", STDOUT, Buffer.from("abc"));
    live.add("a", STDOUT, Buffer.from("defgh"));
    live.add("b", STDOUT, Buffer.from("12345"));
    expect(pieces.map((p) => `${p[0]}:${p[2]}`)).to.deep.equal(["a:abc", "a:de", "b:123"]);
  });
});
