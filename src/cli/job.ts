import { invalidArgument } from "../errors/mesh-error.js";
import type { Job } from "./client/api-types.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { ExitCode, exitCodeOfResults, exitCodesHelp } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { renderHostResults } from "./output/host-results.js";
import { shellQuote } from "./output/shell-quote.js";
import { renderFields } from "./output/table.js";
import { formatInstant } from "./output/time.js";

export const jobCommand = defineCommand({
  usage: "ID [--json]",
  epilog: exitCodesHelp({
    [ExitCode.ok]: "the job completed and every host ran the command and exited 0",
    [ExitCode.hostFailed]: "the job is still running, or some host failed, timed out or exited non-zero",
    [ExitCode.notFound]: "404: no job with this id is visible to your token",
  }),
  flags: { ...jsonFlag, ...gatewayFlags },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw invalidArgument("expected one job id", `usage: meshexec job ID, got ${positionals.length} arguments`);
    const { raw, value: job } = await new GatewayClient(flags.gateway, flags.token).getJson<Job>(`/job/${encodeURIComponent(positionals[0])}`);
    if (flags.json) writeRaw(raw);
    else process.stdout.write(renderJob(job));
    process.exitCode = job.status === "completed" ? exitCodeOfResults(job.results) : ExitCode.hostFailed;
  },
});

function renderJob(job: Job): string {
  const fields: [string, string][] = [
    ["job", job.job_id],
    ["status", job.status],
    ["target", job.target],
    ["container", job.container_id],
    ["command", shellQuote(job.command)],
    ["env keys", job.env_keys.join(" ") || "-"],
    ["subject", job.subject],
    ["created", formatInstant(job.created_at)],
    ["finished", formatInstant(job.finished_at)],
  ];
  if (job.error) fields.push(["error", job.error]);
  const answered = new Set(job.results.map((r) => r.hostname));
  const missing = job.hosts
    .filter((hostname) => !answered.has(hostname))
    .map((hostname) => ({ hostname, status: job.status === "running" ? "running" : "no result" }));
  return `${renderFields(fields)}\n${renderHostResults(job.results, missing)}`;
}
