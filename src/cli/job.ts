import { invalidArgument } from "../errors/mesh-error.js";
import type { Job } from "./client/api-types.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { ExitCode, exitCodeOfResults, exitCodesHelp } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { noGroupFlag, renderHostResults } from "./output/host-results.js";
import { shellQuote } from "./output/shell-quote.js";
import { renderFields } from "./output/table.js";
import { ProgressLine } from "./output/progress.js";
import { formatInstant } from "./output/time.js";

/** How often --wait asks again: soon at first, for short jobs, then less often, for long ones. */
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 5_000;

export const jobCommand = defineCommand({
  usage: "ID [--wait] [--no-group] [--json]",
  epilog: `--wait follows a running job (one started with exec --async, say) until it ends, then prints it as exec does.

${exitCodesHelp({
  [ExitCode.ok]: "the job completed and every host ran the command and exited 0",
  [ExitCode.hostFailed]: "the job is still running (without --wait), or some host failed, timed out or exited non-zero",
  [ExitCode.notFound]: "404: no job with this id is visible to your token",
})}`,
  flags: {
    wait: {
      type: "boolean",
      fromEnv: false,
      description: "wait until the job ends (asking the edge again, less often as time goes by), then print it as exec does",
    },
    ...noGroupFlag,
    ...jsonFlag,
    ...gatewayFlags,
  },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw invalidArgument("expected one job id", `usage: meshexec job ID, got ${positionals.length} arguments`);
    const client = new GatewayClient(flags.gateway, flags.token);
    const path = `/job/${encodeURIComponent(positionals[0])}`;
    const { raw, value: job } = flags.wait ? await waitForEnd(client, path) : await client.getJson<Job>(path);
    const group = !flags["no-group"] && job.results.length > 1;
    if (flags.json) writeRaw(raw);
    else if (flags.wait) process.stdout.write(`${renderFields([["job", job.job_id]])}\n${renderHostResults(job.results, [], { group })}`);
    else process.stdout.write(renderJob(job, group));
    process.exitCode = job.status === "completed" ? exitCodeOfResults(job.results) : ExitCode.hostFailed;
  },
});

/** Polls the job until it is no longer running, with a progress line on a terminal. */
async function waitForEnd(client: GatewayClient, path: string): Promise<{ raw: string; value: Job }> {
  const progress = new ProgressLine();
  try {
    for (let pollMs = FIRST_POLL_MS; ; pollMs = Math.min(pollMs * 2, MAX_POLL_MS)) {
      const reply = await client.getJson<Job>(path);
      const job = reply.value;
      if (job.status !== "running") return reply;
      progress.start(() => `meshexec job: ${job.results.length}/${job.hosts.length || 1} hosts done`);
      progress.redraw();
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    progress.clear();
  }
}

function renderJob(job: Job, group: boolean): string {
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
  return `${renderFields(fields)}\n${renderHostResults(job.results, missing, { group })}`;
}
