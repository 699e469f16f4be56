import { envNameOf } from "../config/index.js";
import { ListenError } from "../errors/index.js";
import { CliFailure, ExitCode } from "./exit-codes.js";

/**
 * Starts a server on the address `flag` set, and turns a failure to listen there into one line
 * that names the address and the flag to change (exit 2), instead of a stack trace.
 */
export async function listenOn<T>(flag: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    throw new CliFailure(
      `cannot listen on ${err.address} (--${flag}): ${err.reason}; set --${flag} or ${envNameOf(flag)} to another HOST:PORT`,
      ExitCode.usage,
      {
        cause: err,
      },
    );
  }
}
