import { GrpcStatus, MeshError, invalidArgument } from "../src/errors/index.js";

/**
 * The request's body as text. A client that stops sending it (gone, or timed out by Node with a
 * 408 already answered, see --request-timeout) is CANCELLED like any caller that goes away, not a
 * failure of the edge.
 */
export async function readBodyText(request: Request): Promise<string> {
  try {
    return await request.text();
  } catch (err) {
    throw bodyReadFailure(err, request);
  }
}

/** What a failed read of the request's body means: CANCELLED when the client went away, else the error as it is. */
export function bodyReadFailure(err: unknown, request: Request): unknown {
  if ((err as NodeJS.ErrnoException).code !== "ECONNRESET" && !request.signal.aborted) return err;
  return new MeshError(GrpcStatus.CANCELLED, "client closed request", "the request's body stopped arriving before its end", { cause: err });
}

/** Parses a request body as JSON; a syntax error is INVALID_ARGUMENT that never quotes the body back. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidArgument("malformed JSON", `the body is not valid JSON: ${syntaxProblemOf(text, (err as Error).message)}`);
  }
}

/**
 * V8's messages either name the grammar rule and a position, or quote the offending text. The
 * body may hold env values, so only the first kind is passed on.
 */
function syntaxProblemOf(text: string, message: string): string {
  if (text.trim() === "") return "it is empty";
  const positioned = /^(.*?)(?: in JSON)? at position (\d+)/.exec(message);
  if (positioned) return `${positioned[1]} at position ${positioned[2]}`;
  if (message.startsWith("Unexpected end")) return "it ends before the value is complete";
  return "it has an unexpected token";
}
