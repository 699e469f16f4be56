import { JOB_STATUSES } from "../contract/index.js";
import { invalidArgument } from "../errors/mesh-error.js";
import { quoteForMessage } from "../errors/quote-for-message.js";
import type { JobsPage } from "./client/api-types.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { ExitCode, exitCodesHelp } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { shellQuote } from "./output/shell-quote.js";
import { renderTable } from "./output/table.js";
import { formatInstant } from "./output/time.js";
import { nextPageLine, pageFlags, pageQueryOf, queryOf } from "./page-flags.js";

export const jobsCommand = defineCommand({
  usage: "[--target T] [--status S] [--limit N] [--cursor C] [--json]",
  epilog: exitCodesHelp({ [ExitCode.ok]: "the page was listed, even an empty one" }),
  flags: {
    // Filters are never read from the environment: MESHEXEC_TARGET, exported for exec, must not hide jobs here.
    target: { type: "string", fromEnv: false, description: "only jobs sent to this target, as exec's --target" },
    status: { type: "string", fromEnv: false, description: `only jobs in this status: ${JOB_STATUSES.join(", ")}` },
    ...pageFlags,
    ...jsonFlag,
    ...gatewayFlags,
  },
  async run(flags) {
    if (flags.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(flags.status)) {
      throw invalidArgument("invalid --status", `--status is one of ${JOB_STATUSES.join(", ")}, got ${quoteForMessage(flags.status)}`);
    }
    const query = queryOf({ target: flags.target, status: flags.status, ...pageQueryOf(flags) });
    const { raw, value } = await new GatewayClient(flags.gateway, flags.token).getJson<JobsPage>(`/jobs?${query}`);
    if (flags.json) return writeRaw(raw);
    if (value.jobs.length === 0) {
      const filters = [flags.target && `--target ${shellQuote([flags.target])}`, flags.status && `--status ${flags.status}`].filter(Boolean);
      return void process.stdout.write(`no jobs${filters.length ? ` match ${filters.join(" ")}` : flags.cursor ? " past this cursor" : " yet"}\n`);
    }
    const rows = value.jobs.map((job) => [
      job.job_id,
      job.status,
      job.target,
      job.container_id,
      String(Math.max(job.hosts.length, job.results.length)),
      formatInstant(job.created_at),
      shellQuote(job.command),
    ]);
    process.stdout.write(renderTable(["JOB", "STATUS", "TARGET", "CONTAINER", "HOSTS", "CREATED", "COMMAND"], rows) + nextPageLine("jobs", value.next_cursor));
  },
});
