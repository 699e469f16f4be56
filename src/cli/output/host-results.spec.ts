import { expect } from "chai";
import type { HostResult } from "../client/api-types.js";
import { foldHostnames } from "./fold-hostnames.js";
import { renderHostResults } from "./host-results.js";

const result = (hostname: string, stdout: string, exit_code = 0): HostResult => ({
  hostname,
  status: "ok",
  stdout,
  stderr: "",
  exit_code,
  changed: true,
  error: "",
  duration_ms: 3,
  stdout_truncated: false,
  stderr_truncated: false,
});

describe("foldHostnames", () => {
  it("folds numbered names into ranges, keeps zero-padding apart, and sorts", () => {
    const names = [...Array.from({ length: 40 }, (_, i) => `web-${String(i + 1).padStart(2, "0")}`), "db-2"];
    expect(foldHostnames(names)).to.equal("db-2,web-[01-40]");
    expect(foldHostnames(["n3", "n1", "n2", "n7", "n9", "n10", "lonely", "n01"])).to.equal("lonely,n[1-3,7,9],n[01,10]");
  });
});

describe("renderHostResults, grouped", () => {
  it("prints identical output once under the folded host list, keeps one table row per host, and 1,000 hosts fold right", () => {
    const results = [
      ...Array.from({ length: 998 }, (_, i) => result(`web-${String(i + 1).padStart(4, "0")}`, "same\n")),
      result("db-1", "other\n"),
      result("db-2", "same\n", 3),
    ];
    const text = renderHostResults(results, [], { group: true });
    expect(text).to.include("==> web-[0001-0998] (998 hosts) stdout <==\nsame\n");
    expect(text).to.include("==> db-1 stdout <==\nother\n");
    // Same stdout, another exit code: a group of its own.
    expect(text).to.include("==> db-2 stdout <==\nsame\n");
    expect(text.match(/^web-\d{4} +ok +0 /gm)).to.have.length(998);
    expect(text.match(/==>/g)).to.have.length(3);
  });

  it("prints every host on its own without grouping", () => {
    const text = renderHostResults([result("a-1", "x\n"), result("a-2", "x\n")]);
    expect(text.match(/==>/g)).to.have.length(2);
  });
});
