#!/usr/bin/env node
import { MeshError } from "../errors/index.js";
import { agentCommand } from "./agent.js";
import { agentsCommand } from "./agents.js";
import { runCommand, type Command } from "./command.js";
import { devCommand } from "./dev.js";
import { execCommand } from "./exec.js";
import { CliFailure, ExitCode } from "./exit-codes.js";
import { gatewayCommand } from "./gateway.js";
import { jobCommand } from "./job.js";
import { jobsCommand } from "./jobs.js";
import { routerCommand } from "./router.js";
import { tokenCommand } from "./token.js";

const commands: Record<string, Command<any>> = {
  router: routerCommand,
  gateway: gatewayCommand,
  agent: agentCommand,
  token: tokenCommand,
  dev: devCommand,
  exec: execCommand,
  agents: agentsCommand,
  job: jobCommand,
  jobs: jobsCommand,
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(10)}${command.summary}`);
  return `meshexec: run commands in Docker containers across a fleet.\n\nUsage: meshexec <command> [flags]  (meshexec <command> --help for its flags)\n\nCommands:\n${lines.join("\n")}\n`;
}

const [name, ...argv] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  process.stderr.write(name && name !== "--help" && name !== "-h" ? `meshexec: unknown command "${name}"\n\n${usage()}` : usage());
  process.exit(name === "--help" || name === "-h" ? 0 : 2);
}
runCommand(name, command, argv).catch((err: unknown) => {
  const message = err instanceof MeshError ? `${err.error}: ${err.details}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`meshexec ${name}: ${message}\n`);
  process.exit(err instanceof CliFailure ? err.exitCode : ExitCode.usage);
});
