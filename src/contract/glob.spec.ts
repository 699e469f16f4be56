import { expect } from "chai";
import { matchesAnyGlob, matchesGlob } from "./glob.js";

describe("matchesGlob", () => {
  const cases: Array<[pattern: string, name: string, matches: boolean]> = [
    ["web-1", "web-1", true],
    ["web-1", "web-10", false],
    ["web-*", "web-1", true],
    ["web-*", "web-", true],
    ["web-*", "db-web-1", false],
    ["*-web", "eu-web", true],
    ["*-web", "eu-web-1", false],
    ["*", "", true],
    ["*", "anything.at.all", true],
    ["", "", true],
    ["", "a", false],
    ["a", "", false],
    ["web-?", "web-1", true],
    ["web-?", "web-12", false],
    ["web-?", "web-", false],
    ["app-*-blue", "app-api-blue", true],
    ["app-*-blue", "app--blue", true],
    ["app-*-blue", "app-api-green", false],
    ["*a*b*", "xxaxxbxx", true],
    ["*a*b*", "xxbxxaxx", false],
    ["a*a*a", "aaa", true],
    ["a*a*a", "aa", false],
    ["**", "x", true],
    ["?*", "", false],
    ["web.*", "web.example", true],
    ["web.*", "webxexample", false],
    ["Web-*", "web-1", false],
  ];
  for (const [pattern, name, matches] of cases) {
    it(`${JSON.stringify(pattern)} ${matches ? "matches" : "does not match"} ${JSON.stringify(name)}`, () => {
      expect(matchesGlob(pattern, name)).to.equal(matches);
    });
  }

  it("is anchored at both ends: a glob never matches a part of a name", () => {
    expect(matchesGlob("app", "my-app-1")).to.equal(false);
    expect(matchesGlob("app*", "my-app-1")).to.equal(false);
    expect(matchesGlob("*app", "my-app-1")).to.equal(false);
  });

  it("treats regular expression characters as themselves", () => {
    expect(matchesGlob("a.c", "abc")).to.equal(false);
    expect(matchesGlob("a+", "aa")).to.equal(false);
    expect(matchesGlob("a+", "a+")).to.equal(true);
  });

  it("matches any of several globs", () => {
    expect(matchesAnyGlob(["db-*", "web-?"], "web-3")).to.equal(true);
    expect(matchesAnyGlob(["db-*", "web-?"], "cache-1")).to.equal(false);
    expect(matchesAnyGlob([], "web-3")).to.equal(false);
  });
});
