import { invalidArgument } from "../errors/mesh-error.js";
import type { Job } from "./client/api-types.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { ExitCode, exitCodesHelp } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { renderHostResults } from "./output/host-results.js";
import { renderFields } from "./output/table.js";

export const jobCancelCommand = defineCommand({
  usage: "ID [--json]",
  epilog: `Hosts still running are killed and end "cancelled"; hosts not started end "skipped"; the job ends "cancelled".
Your own jobs need docker:execute; anyone's, job:cancel.

${exitCodesHelp({
  [ExitCode.ok]: "the job is cancelled",
  [ExitCode.notFound]: "404: no job with this id is visible to your token",
  [ExitCode.refused]: "409: the job has already ended, or it runs on another router of the mesh",
})}`,
  flags: { ...jsonFlag, ...gatewayFlags },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw invalidArgument("expected one job id", `usage: meshexec job cancel ID, got ${positionals.length} arguments`);
    const client = new GatewayClient(flags.gateway, flags.token);
    const raw = await cancelJob(client, positionals[0]);
    if (flags.json) return writeRaw(raw);
    const job = client.parse<Job>(raw);
    process.stdout.write(
      `${renderFields([
        ["job", job.job_id],
        ["status", job.status],
      ])}\n${renderHostResults(job.results, [], { group: job.results.length > 1 })}`,
    );
  },
});

/** POST /job/{id}/cancel: the cancelled job as the edge sent it. */
export async function cancelJob(client: GatewayClient, jobId: string): Promise<string> {
  return client.readText(await client.send("POST", `/job/${encodeURIComponent(jobId)}/cancel`));
}
