#!/usr/bin/env node
import { InvalidFlags } from "../config/check-flags.js";
import { MeshError } from "../errors/mesh-error.js";
import { runCommand } from "./command.js";
import { commands } from "./commands.js";
import { CliFailure, ExitCode } from "./exit-codes.js";

function usage(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(14)}${summary}`);
  return `meshexec: run commands in Docker containers across a fleet.

Usage: meshexec <command> [flags]  (meshexec <command> --help for its flags)

Commands:
${lines.join("\n")}

A flag can also be set as the environment variable its --help names (--gateway: MESHEXEC_GATEWAY);
a variable sets only the commands whose --help lists it. Filters, paging and --idempotency-key are
read from the command line only, so an export meant for one command never changes another.
`;
}

const [command, ...rest] = process.argv.slice(2);
// A command with a subcommand (token revoke) is named by both words.
const [name, argv] = rest[0] && commands[`${command} ${rest[0]}`] ? [`${command} ${rest[0]}`, rest.slice(1)] : [command, rest];
const entry = name ? commands[name] : undefined;
if (!entry) {
  const wantsHelp = name === "--help" || name === "-h";
  (wantsHelp ? process.stdout : process.stderr).write(name && !wantsHelp ? `meshexec: unknown command "${name}"\n\n${usage()}` : usage());
  process.exit(wantsHelp ? 0 : 2);
}
runCommand(name, entry.summary, await entry.load(), argv).catch((err: unknown) => {
  // Every bad flag on a line of its own, so all of them are fixed in one go.
  const failures = err instanceof InvalidFlags ? err.problems : [err];
  for (const failure of failures) {
    const message = failure instanceof MeshError ? `${failure.error}: ${failure.details}` : failure instanceof Error ? failure.message : String(failure);
    process.stderr.write(`meshexec ${name}: ${message}\n`);
  }
  process.exit(err instanceof CliFailure ? err.exitCode : ExitCode.usage);
});
