import { describeFlags, positionalsOf, readFlags, type FlagSpecs, type FlagValues } from "../config/index.js";
import { invalidArgument } from "../errors/mesh-error.js";
import { quoteForMessage } from "../errors/quote-for-message.js";

/** One `meshexec` subcommand: its flags, and what it does with them (its one-line summary is in commands.ts). */
export interface Command<S extends FlagSpecs = FlagSpecs> {
  usage: string;
  /**
   * Set where the command's own argv follows `--` (exec): an example of that, for the hint given
   * when a command is typed without `--`. Checked before the flags, so that `ls -l` gets this
   * hint rather than the flag parser's complaint about -l.
   */
  commandAfterDashDash?: string;
  flags: S;
  /** Printed after the flags in --help: exit codes, conventions. */
  epilog?: string;
  /** `afterDashDash` is everything after the first `--`, as typed: never read as flags, never split. */
  run(flags: FlagValues<S>, positionals: string[], afterDashDash: string[]): Promise<void>;
}

export function defineCommand<S extends FlagSpecs>(command: Command<S>): Command<S> {
  return command;
}

export async function runCommand(name: string, summary: string, command: Command, argv: string[]): Promise<void> {
  const dashDash = argv.indexOf("--");
  const own = dashDash < 0 ? argv : argv.slice(0, dashDash);
  if (own.includes("--help") || own.includes("-h")) {
    const epilog = command.epilog ? `\n${command.epilog}\n` : "";
    process.stdout.write(`${summary}\n\nUsage: meshexec ${name} ${command.usage}\n\nFlags:\n${describeFlags(command.flags)}\n${epilog}`);
    return;
  }
  const [stray] = command.commandAfterDashDash ? positionalsOf(command.flags, own) : [];
  if (stray !== undefined) {
    throw invalidArgument("command before --", `${quoteForMessage(stray)} is not a flag; put the command after --, e.g. ${command.commandAfterDashDash}`);
  }
  const { values, positionals, warnings } = readFlags(command.flags, own);
  for (const warning of warnings) process.stderr.write(`meshexec ${name}: warning: ${warning}\n`);
  await command.run(values, positionals, dashDash < 0 ? [] : argv.slice(dashDash + 1));
}

/** Runs stop() on the first SIGTERM or SIGINT, then exits 0; a second signal exits at once. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        // Never silent: a stop that failed says why, on the one line the operator sees.
        process.stderr.write(`meshexec: stopping failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
