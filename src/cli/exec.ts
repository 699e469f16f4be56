import { execLimits } from "../contract/index.js";
import { invalidArgument } from "../errors/mesh-error.js";
import type { ExecResponse, HostResult } from "./client/api-types.js";
import { readExecReply } from "./client/exec-reply.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { execRequestOf } from "./exec-request.js";
import { ExitCode, exitCodeOfResults, exitCodesHelp } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { FollowOutput } from "./output/follow-output.js";
import { noGroupFlag, renderHostResults } from "./output/host-results.js";
import { readStdinForExec } from "./exec-stdin.js";
import { cancelJob } from "./job-cancel.js";
import { ProgressLine } from "./output/progress.js";
import { renderFields } from "./output/table.js";
import { formatSeconds } from "./output/time.js";

const EXAMPLE = "meshexec exec --container web -- ls -l /";

export const execCommand = defineCommand({
  usage:
    "[--target T] --container ID [--env K=V]… [--workdir DIR] [--timeout S] [--max-concurrency N|P%] [--max-errors N|P%] [-i] [--follow] [--no-group] [--idempotency-key K] [--json] [--async] -- CMD [ARGS…]",
  commandAfterDashDash: EXAMPLE,
  epilog: `Everything after -- is the command's argv exactly as typed: no shell, nothing split on spaces or commas.
--json prints one document, {job_id, results}, as the API's plain (unstreamed) reply; never grouped, never followed.
Hosts whose stdout, stderr and exit code are identical are printed once, under a folded host list
(web-[01-40],db-2 (41 hosts)), as dshbak -c does; the table above stays one row per host.
--follow prints output as it is written, each line prefixed with its host ("web-1 | …"; "!" in place of "|" marks stderr);
it is on by default when the target is one host (a hostname or _any) and stdout is a terminal.
--max-concurrency runs at most that many hosts at a time (10, or 10% of the targeted hosts), in hostname order;
--max-errors stops starting hosts once more than that many have failed or exited non-zero: the rest end "skipped".
Ctrl-C prints the job's id, cancels the job (running hosts are killed, the rest skipped) and exits 130; a second Ctrl-C
exits at once without waiting for the cancel.

${exitCodesHelp({
  [ExitCode.ok]: "every targeted host ran the command and it exited 0",
  [ExitCode.hostFailed]: "the call succeeded, but some host failed, timed out or exited non-zero",
  [ExitCode.auth]: "401 or 403: the token is missing, invalid or lacks the scope, or does not allow the target or container",
  [ExitCode.notFound]: "404: no agent matches the target, or the container does not exist",
  [ExitCode.refused]:
    "409 or 429: the container is not running, the idempotency key was used for another request, or the agents or your subject are at their limit; retry later",
  [ExitCode.interrupted]: "interrupted (Ctrl-C) before the results came; the job was cancelled",
})}`,
  flags: {
    target: { type: "string", default: "_any", description: "a hostname, _any (one agent, the least busy), _all, or key:value (every agent with that label)" },
    container: { type: "string", description: "the container's name or id (required)" },
    env: { type: "strings", envSeparator: "\n", description: "KEY=VALUE to set in the command's environment, passed as is (commas included)" },
    workdir: { type: "string", description: "absolute directory to run the command in (default: the container's)" },
    timeout: {
      type: "string",
      default: String(execLimits.defaultTimeoutSeconds),
      description: `how long the command may run: seconds, or 30s, 5m, 1h; 1s to ${formatSeconds(execLimits.maxTimeoutSeconds)}`,
    },
    "idempotency-key": {
      type: "string",
      // One key names one request: exported, it would turn every later exec into a replay of the first.
      fromEnv: false,
      description: "sent as Idempotency-Key: the same key and request within 24 h returns the first job instead of running again (1 to 255 printable ASCII)",
    },
    "max-concurrency": {
      type: "string",
      fromEnv: false,
      description: "run at most this many hosts at once, in hostname order: a whole number, or a percentage of the targeted hosts (10%)",
    },
    "max-errors": {
      type: "string",
      fromEnv: false,
      description: "start no more hosts once more than this many failed or exited non-zero (a number or a percentage); the rest end skipped",
    },
    async: { type: "boolean", description: "print the job id as soon as the job is accepted, without waiting; see it with meshexec job ID --wait" },
    stdin: {
      type: "boolean",
      short: "i",
      fromEnv: false,
      description: `send this command's standard input to the command's (read whole before anything runs; at most ${execLimits.stdinMaxBytes} bytes)`,
    },
    follow: {
      type: "boolean",
      description: "print each line of output as the command writes it, prefixed with its host (default: on for one host on a terminal)",
    },
    ...noGroupFlag,
    ...jsonFlag,
    ...gatewayFlags,
  },
  async run(flags, _positionals, command) {
    if (!flags.container) throw invalidArgument("missing --container", `name the container to run in with --container ID, e.g. ${EXAMPLE}`);
    if (command.length === 0) throw invalidArgument("missing command", `put the command after --, e.g. ${EXAMPLE}`);
    if (flags.follow && (flags.json || flags.async))
      throw invalidArgument("invalid --follow", "--follow prints output as it comes; --json and --async print none");
    const body = execRequestOf({ ...flags, container: flags.container }, command);
    // Read whole before anything runs, so input past the limit is an error before any host ran the command.
    const stdin = flags.stdin ? await readStdinForExec() : undefined;
    const json = stdin === undefined ? body : { ...body, stdin_base64: stdin.toString("base64") };

    const client = new GatewayClient(flags.gateway, flags.token);
    const path = `/node/${encodeURIComponent(flags.target)}/container/docker/${encodeURIComponent(flags.container)}/exec`;
    const headers: Record<string, string> = flags["idempotency-key"] ? { "idempotency-key": flags["idempotency-key"] } : {};

    if (flags.async) {
      const raw = await client.readText(await client.send("POST", `${path}?async=true`, { json, headers }));
      if (flags.json) return writeRaw(raw);
      const { job_id } = client.parse<ExecResponse>(raw);
      return void process.stdout.write(`job ${job_id} accepted; see it with: meshexec job ${job_id}\n`);
    }

    // Always streamed, --json too: the stream's first line names the job, so Ctrl-C can say which
    // one it left, where a plain reply names it only once every host is done.
    const singleHost = flags.target === "_any" || (!flags.target.startsWith("_") && !flags.target.includes(":"));
    const follow = flags.follow || (!flags.json && singleHost && process.stdout.isTTY === true) ? new FollowOutput() : undefined;
    const progress = new ProgressLine();
    const startedAt = Date.now();
    let jobId = "";
    let doneText = "";
    let interrupted = false;
    const stopOnInterrupt = () => {
      interrupted = true;
      progress.clear();
      if (!jobId) {
        process.stderr.write("meshexec exec: interrupted before the edge accepted the job\n");
        process.exit(ExitCode.interrupted);
      }
      process.stderr.write(`meshexec exec: interrupted; cancelling job ${jobId} (Ctrl-C again to leave it running)\n`);
      // A second Ctrl-C leaves at once: the cancel may be waiting on a router that is slow to answer.
      process.once("SIGINT", () => process.exit(ExitCode.interrupted));
      cancelJob(client, jobId)
        .then(
          () => process.stderr.write(`meshexec exec: job ${jobId} cancelled; see what it did with: meshexec job ${jobId}\n`),
          (err: Error) => process.stderr.write(`meshexec exec: job ${jobId} not cancelled: ${err.message}; see it with: meshexec job ${jobId}\n`),
        )
        .finally(() => process.exit(ExitCode.interrupted));
    };
    process.once("SIGINT", stopOnInterrupt);
    let reply: ExecResponse;
    try {
      // Output events only when they are printed: a stream that only waits for results does not pay for them.
      const query = follow ? "stream=true" : "stream=true&output=false";
      const response = await client.send("POST", `${path}?${query}`, { json, headers, accept: "application/x-ndjson, application/json" });
      reply = await readExecReply(client, response, {
        accepted(id, hosts) {
          jobId = id;
          follow?.hosts(hosts);
          doneText = hostsDoneText([], hosts.length || 1);
          // Live output and a progress line would overwrite each other.
          if (follow) return;
          progress.start(
            () => `meshexec exec: ${doneText}, ${formatSeconds((Date.now() - startedAt) / 1000)} elapsed (time limit ${formatSeconds(body.timeout_seconds)})`,
          );
        },
        hostDone(done, targeted) {
          follow?.result(done[done.length - 1]);
          doneText = hostsDoneText(done, targeted);
          progress.redraw();
        },
        output: (hostname, stream, data) => follow?.output(hostname, stream, data),
        outputDropped() {
          process.stderr.write("meshexec exec: live output stopped: this terminal read it too slowly; each host's rest follows as it finishes\n");
          follow?.outputDropped();
        },
      });
    } finally {
      progress.clear();
      process.off("SIGINT", stopOnInterrupt);
    }
    // The stream of a job being cancelled ends with its cancelled results: the cancel's own outcome is what is printed.
    if (interrupted) return;
    if (flags.json) writeRaw(JSON.stringify(reply));
    else {
      // Output was shown as it came only when the edge streamed (an edge without streaming answers plain JSON, no job id).
      const options = { group: !flags["no-group"] && reply.results.length > 1, outputShown: follow !== undefined && jobId !== "" };
      process.stdout.write(`${renderFields([["job", reply.job_id]])}\n${renderHostResults(reply.results, [], options)}`);
    }
    process.exitCode = exitCodeOfResults(reply.results);
  },
});

function hostsDoneText(done: readonly HostResult[], targeted: number): string {
  const notOk = done.filter((r) => r.status !== "ok" || r.exit_code !== 0).length;
  return `${done.length}/${targeted} hosts done${notOk ? `, ${notOk} not ok` : ""}`;
}
