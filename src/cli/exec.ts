import { parseDuration } from "../config/index.js";
import { invalidArgument } from "../errors/index.js";
import type { ExecResponse, HostResult } from "./client/api-types.js";
import { readExecReply } from "./client/exec-reply.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { EXIT_CODES_HELP, exitCodeOfResults } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { renderHostResults } from "./output/host-results.js";
import { ProgressLine } from "./output/progress.js";
import { renderFields } from "./output/table.js";

export const execCommand = defineCommand({
  summary: "Runs a command in a container on the targeted agents and prints each host's result.",
  usage: "[--target T] --container ID [--env K=V]… [--workdir DIR] [--timeout S] [--json] [--async] -- CMD [ARGS…]",
  epilog: `Everything after -- is the command's argv exactly as typed: no shell, nothing split on spaces or commas.\n\n${EXIT_CODES_HELP}`,
  flags: {
    target: { type: "string", default: "_any", description: "a hostname, _any (one agent, the least busy), _all, or key:value (every agent with that label)" },
    container: { type: "string", description: "the container's name or id (required)" },
    env: { type: "strings", envSeparator: "\n", description: "KEY=VALUE to set in the command's environment, passed as is (commas included)" },
    workdir: { type: "string", description: "absolute directory to run the command in (default: the container's)" },
    timeout: { type: "string", default: "60", description: "how long the command may run: seconds, or 30s, 5m, 1h; at most 1h" },
    async: { type: "boolean", description: "print the job id as soon as the job is accepted, without waiting; see it with meshexec job ID" },
    ...jsonFlag,
    ...gatewayFlags,
  },
  async run(flags, positionals, command) {
    if (!flags.container) throw invalidArgument("missing --container", "name the container to run in with --container ID");
    if (positionals.length > 0) {
      throw invalidArgument("command before --", `"${positionals[0]}" is not a flag; put the command after --, e.g. meshexec exec --container web -- ls -l /`);
    }
    if (command.length === 0) throw invalidArgument("missing command", "put the command after --, e.g. meshexec exec --container web -- ls -l /");

    const client = new GatewayClient(flags.gateway, flags.token);
    const path = `/node/${encodeURIComponent(flags.target)}/container/docker/${encodeURIComponent(flags.container)}/exec`;
    const body = { command, env: flags.env, working_dir: flags.workdir, timeout_seconds: wholeSeconds(flags.timeout) };

    if (flags.async || flags.json) {
      // --json asks for the plain reply even where the edge streams, so scripts get one JSON document.
      const raw = await client.readText(await client.send("POST", `${path}${flags.async ? "?async=true" : ""}`, { json: body }));
      const reply = client.parse<ExecResponse>(raw);
      if (flags.json) writeRaw(raw);
      else process.stdout.write(`job ${reply.job_id} accepted; see it with: meshexec job ${reply.job_id}\n`);
      if (!flags.async) process.exitCode = exitCodeOfResults(reply.results);
      return;
    }

    const progress = new ProgressLine();
    let reply: ExecResponse;
    try {
      const response = await client.send("POST", `${path}?stream=true`, { json: body, accept: "application/x-ndjson, application/json" });
      reply = await readExecReply(client, response, (done, targeted) => progress.show(progressText(done, targeted)));
    } finally {
      progress.clear();
    }
    process.stdout.write(`${renderFields([["job", reply.job_id]])}\n${renderHostResults(reply.results)}`);
    process.exitCode = exitCodeOfResults(reply.results);
  },
});

function wholeSeconds(timeout: string): number {
  const ms = parseDuration("timeout", timeout);
  if (ms % 1000 !== 0) throw invalidArgument("invalid --timeout", `the timeout is a whole number of seconds, got "${timeout}"`);
  return ms / 1000;
}

function progressText(done: readonly HostResult[], targeted: number): string {
  const notOk = done.filter((r) => r.status !== "ok" || r.exit_code !== 0).length;
  return `meshexec exec: ${done.length}/${targeted} hosts done${notOk ? `, ${notOk} not ok` : ""}`;
}
