import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildOpenApiDocument } from "../../gateway/openapi/document.js";

const repositoryRoot = path.resolve(import.meta.dirname, "../..");

describe("the OpenAPI document under Redocly's recommended rules (redocly.yaml, as make lint runs them)", function () {
  this.timeout(30_000);

  it("has no error and no warning", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "meshexec-openapi-")), "openapi.json");
    writeFileSync(file, JSON.stringify(buildOpenApiDocument()));
    const redocly = path.join(repositoryRoot, "node_modules/.bin/redocly");
    const run = await promisify(execFile)(redocly, ["lint", "--config", path.join(repositoryRoot, "redocly.yaml"), "--format", "json", file], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    }).catch((failed: { stdout: string; stderr: string }) => failed);
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf("{"))) as {
      totals: { errors: number; warnings: number };
      problems: Array<{ ruleId: string; message: string }>;
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).to.deep.equal([]);
    expect(report.totals).to.include({ errors: 0, warnings: 0 });
  });
});
