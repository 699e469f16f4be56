import { expect } from "chai";
import { ESLint, type Linter } from "eslint";
import { readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const repositoryRoot = path.resolve(import.meta.dirname, "../..");
// A tree laid out like this repository, with one forbidden import per file named below; `make lint` skips it.
const fixtureRoot = path.join(repositoryRoot, "test/fixtures/lint");

const hono = "Only gateway/ imports hono";
const dockerode = "Only agent/runtime/ imports dockerode";
const zones = "import-x/no-restricted-paths";

/** What linting each fixture must report: nothing for the imports the boundaries allow. */
const expected: Record<string, { ruleId: string; says: string } | "clean"> = {
  "gateway/app.ts": "clean",
  "agent/runtime/docker-runtime.ts": "clean",
  "src/cli/main.ts": "clean",
  "src/store/jobs.ts": "clean",
  "test/support/helper.ts": "clean",
  "src/router/serves-hono.ts": { ruleId: zones, says: hono },
  "src/auth/types-from-hono.ts": { ruleId: zones, says: hono },
  "src/router/serves-http.ts": { ruleId: "no-restricted-imports", says: "The router never parses HTTP" },
  "src/store/calls-docker.ts": { ruleId: zones, says: dockerode },
  "agent/calls-docker-directly.ts": { ruleId: zones, says: dockerode },
  "agent/link/reaches-the-edge.ts": { ruleId: zones, says: "never import gateway/" },
  "src/auth/loads-the-edge-lazily.ts": { ruleId: zones, says: "never import gateway/" },
  "gateway/reads-jobs.ts": { ruleId: zones, says: "the edge and the agent keep no records" },
  "gateway/ships-test-code.ts": { ruleId: zones, says: "Shipped code never imports test/" },
  "src/cli/client/types-from-the-edge.ts": "clean",
  "src/cli/client/loads-the-edge.ts": { ruleId: "no-restricted-syntax", says: "The CLI client takes only types from gateway/" },
};

describe("import boundaries (eslint.config.js on fixtures)", () => {
  const reported = new Map<string, Linter.LintMessage[]>();

  before(async () => {
    // The configuration `make lint` uses, rooted at the fixtures instead of the repository.
    const configFile = pathToFileURL(path.join(repositoryRoot, "eslint.config.js")).href;
    const { lintConfig } = (await import(configFile)) as { lintConfig: (root: string) => Linter.Config[] };
    const eslint = new ESLint({ cwd: fixtureRoot, overrideConfigFile: true, overrideConfig: lintConfig(fixtureRoot) });
    for (const result of await eslint.lintFiles(["."])) {
      reported.set(path.relative(fixtureRoot, result.filePath), result.messages);
    }
  });

  it("lints every fixture, and every fixture has an expectation", () => {
    const onDisk = readdirSync(fixtureRoot, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
    expect([...reported.keys()].sort()).to.deep.equal(onDisk.sort());
    expect(Object.keys(expected).sort()).to.deep.equal(onDisk.sort());
  });

  for (const [file, expectation] of Object.entries(expected)) {
    if (expectation === "clean") {
      it(`allows ${file}`, () => expect(reported.get(file)).to.deep.equal([]));
    } else {
      it(`refuses ${file}: ${expectation.says}`, () => {
        const messages = reported.get(file) ?? [];
        expect(messages.map((message) => message.ruleId)).to.deep.equal([expectation.ruleId]);
        expect(messages[0].message).to.contain(expectation.says);
        expect(messages[0].severity).to.equal(2);
      });
    }
  }
});
