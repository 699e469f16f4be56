import type { AuditPage } from "./client/api-types.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { ExitCode, exitCodesHelp } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { shellQuote } from "./output/shell-quote.js";
import { renderTable } from "./output/table.js";
import { formatInstant } from "./output/time.js";
import { nextPageLine, pageFlags, pageQueryOf, queryOf } from "./page-flags.js";

export const auditCommand = defineCommand({
  usage: "[--limit N] [--cursor C] [--json]",
  epilog: exitCodesHelp({ [ExitCode.ok]: "the page was listed, even an empty one" }),
  flags: { ...pageFlags, ...jsonFlag, ...gatewayFlags },
  async run(flags) {
    const { raw, value } = await new GatewayClient(flags.gateway, flags.token).getJson<AuditPage>(`/audit?${queryOf(pageQueryOf(flags))}`);
    if (flags.json) return writeRaw(raw);
    if (value.entries.length === 0) return void process.stdout.write(`no audit entries${flags.cursor ? " past this cursor" : " yet"}\n`);
    const rows = value.entries.map((entry) => [
      formatInstant(entry.time),
      entry.subject || "-",
      String(entry.http_status),
      entry.target || "-",
      entry.container_id || "-",
      entry.job_id || "-",
      shellQuote(entry.command) || "-",
      entry.error || "-",
    ]);
    process.stdout.write(
      renderTable(["TIME", "SUBJECT", "HTTP", "TARGET", "CONTAINER", "JOB", "COMMAND", "ERROR"], rows) + nextPageLine("audit", value.next_cursor),
    );
  },
});
