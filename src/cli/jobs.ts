import type { JobsPage } from "./client/api-types.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { EXIT_CODES_HELP } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { shellQuote } from "./output/shell-quote.js";
import { renderTable } from "./output/table.js";
import { formatInstant } from "./output/time.js";

export const jobsCommand = defineCommand({
  summary: "Lists recent jobs of your subject (every subject's with job:read:any), newest first; meshexec job ID shows one in full.",
  usage: "[--target T] [--status S] [--limit N] [--cursor C] [--json]",
  epilog: EXIT_CODES_HELP,
  flags: {
    target: { type: "string", description: "only jobs sent to this target, as exec's --target" },
    status: { type: "string", description: "only jobs in this status: running, completed, partial_failure or failed" },
    limit: { type: "string", default: "20", description: "how many jobs to list, at most 100" },
    cursor: { type: "string", description: "where the previous page ended (it prints the next cursor last)" },
    ...jsonFlag,
    ...gatewayFlags,
  },
  async run(flags) {
    const query = new URLSearchParams(
      Object.entries({ target: flags.target, status: flags.status, limit: flags.limit, cursor: flags.cursor }).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    );
    const { raw, value } = await new GatewayClient(flags.gateway, flags.token).getJson<JobsPage>(`/jobs?${query}`);
    if (flags.json) return writeRaw(raw);
    const rows = value.jobs.map((job) => [
      job.job_id,
      job.status,
      job.target,
      job.container_id,
      String(Math.max(job.hosts.length, job.results.length)),
      formatInstant(job.created_at),
      shellQuote(job.command),
    ]);
    const more = value.next_cursor ? `\nmore: meshexec jobs --cursor ${value.next_cursor}\n` : "";
    process.stdout.write(renderTable(["JOB", "STATUS", "TARGET", "CONTAINER", "HOSTS", "CREATED", "COMMAND"], rows) + more);
  },
});
