import { describeFlags, readFlags, type FlagSpecs, type FlagValues } from "../config/index.js";

/** One `meshexec` subcommand: its flags, and what it does with them. */
export interface Command<S extends FlagSpecs = FlagSpecs> {
  summary: string;
  usage: string;
  flags: S;
  run(flags: FlagValues<S>, positionals: string[]): Promise<void>;
}

export function defineCommand<S extends FlagSpecs>(command: Command<S>): Command<S> {
  return command;
}

export async function runCommand(name: string, command: Command, argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${command.summary}\n\nUsage: meshexec ${name} ${command.usage}\n\nFlags:\n${describeFlags(command.flags)}\n`);
    return;
  }
  const { values, positionals } = readFlags(command.flags, argv);
  await command.run(values, positionals);
}

/** Runs stop() on the first SIGTERM or SIGINT, then exits 0; a second signal exits at once. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
