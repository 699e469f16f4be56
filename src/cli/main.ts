#!/usr/bin/env node
import { MeshError } from "../errors/index.js";
import { runCommand, type Command } from "./command.js";
import { CliFailure, ExitCode } from "./exit-codes.js";

/**
 * Each command's module, loaded only when that command runs: a router then never loads the
 * agent's Docker client (dockerode, ssh2) nor the edge's HTTP stack, 16 MiB of its RSS.
 */
const commands: Record<string, () => Promise<Command<any>>> = {
  router: async () => (await import("./router.js")).routerCommand,
  gateway: async () => (await import("./gateway.js")).gatewayCommand,
  agent: async () => (await import("./agent.js")).agentCommand,
  token: async () => (await import("./token.js")).tokenCommand,
  "token revoke": async () => (await import("./token-revoke.js")).tokenRevokeCommand,
  dev: async () => (await import("./dev.js")).devCommand,
  exec: async () => (await import("./exec.js")).execCommand,
  agents: async () => (await import("./agents.js")).agentsCommand,
  job: async () => (await import("./job.js")).jobCommand,
  jobs: async () => (await import("./jobs.js")).jobsCommand,
};

async function usage(): Promise<string> {
  const lines = await Promise.all(Object.entries(commands).map(async ([name, load]) => `  ${name.padEnd(14)}${(await load()).summary}`));
  return `meshexec: run commands in Docker containers across a fleet.\n\nUsage: meshexec <command> [flags]  (meshexec <command> --help for its flags)\n\nCommands:\n${lines.join("\n")}\n`;
}

const [command, ...rest] = process.argv.slice(2);
// A command with a subcommand (token revoke) is named by both words.
const [name, argv] = rest[0] && commands[`${command} ${rest[0]}`] ? [`${command} ${rest[0]}`, rest.slice(1)] : [command, rest];
const load = name ? commands[name] : undefined;
if (!load) {
  process.stderr.write(name && name !== "--help" && name !== "-h" ? `meshexec: unknown command "${name}"\n\n${await usage()}` : await usage());
  process.exit(name === "--help" || name === "-h" ? 0 : 2);
}
runCommand(name, await load(), argv).catch((err: unknown) => {
  const message = err instanceof MeshError ? `${err.error}: ${err.details}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`meshexec ${name}: ${message}\n`);
  process.exit(err instanceof CliFailure ? err.exitCode : ExitCode.usage);
});
