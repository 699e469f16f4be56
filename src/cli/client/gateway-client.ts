import http, { type IncomingMessage } from "node:http";
import https from "node:https";
// The file alone, not contract/index.js: a client command loads no more than it uses.
import { DEFAULT_REST_ADDRESS } from "../../contract/addresses.js";
import { invalidArgument } from "../../errors/mesh-error.js";
import { MESHEXEC_VERSION } from "../../version.js";
import { CliFailure, ExitCode, exitCodeOfHttpStatus } from "../exit-codes.js";

/** How every operator command finds the edge and proves who it is. */
export const gatewayFlags = {
  gateway: { type: "string", default: `http://${DEFAULT_REST_ADDRESS}`, description: "the REST edge's base URL" },
  token: { type: "string", description: "bearer token (JWT) for the edge, e.g. from meshexec token" },
} as const;

/**
 * The REST edge, over node:http rather than fetch: fetch gives up on a reply whose headers take
 * over 300 s, and a plain (non-streamed) exec answers only when its last host is done, which
 * may take up to its 3600 s timeout.
 * Every failure becomes a CliFailure naming its cause: the edge's `{error, details}`, or why it
 * could not be reached.
 */
export class GatewayClient {
  private readonly base: URL;

  constructor(
    base: string,
    private readonly token: string | undefined,
  ) {
    this.base = parseGatewayUrl(base);
  }

  /** Resolves with a 2xx reply whose body is still unread. */
  async send(
    method: "GET" | "POST",
    path: string,
    options: { json?: unknown; accept?: string; headers?: Record<string, string> } = {},
  ): Promise<IncomingMessage> {
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const headers: Record<string, string> = { ...options.headers, accept: options.accept ?? "application/json", "user-agent": `meshexec/${MESHEXEC_VERSION}` };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) Object.assign(headers, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });

    const url = new URL(this.base.href.replace(/\/$/, "") + path);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (url.protocol === "https:" ? https : http).request(url, { method, headers }, resolve);
      request.on("error", (err: NodeJS.ErrnoException) => reject(this.connectionFailure("cannot reach the edge", err)));
      request.end(body);
    });
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) throw this.failureOf(response, await this.readText(response));
    return response;
  }

  /** GETs a JSON route: the body as sent (for --json) and parsed (for the tables). */
  async getJson<T>(path: string): Promise<{ raw: string; value: T }> {
    const raw = await this.readText(await this.send("GET", path));
    return { raw, value: this.parse<T>(raw) };
  }

  async readText(response: IncomingMessage): Promise<string> {
    let text = "";
    for await (const chunk of this.readChunks(response)) text += chunk;
    return text;
  }

  /** The body's lines as they arrive, for NDJSON; a last line without "\n" counts too. */
  async *readLines(response: IncomingMessage): AsyncGenerator<string> {
    let pending = "";
    for await (const chunk of this.readChunks(response)) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      yield* lines;
    }
    if (pending) yield pending;
  }

  parse<T>(text: string): T {
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliFailure(`the edge at ${this.base.origin} sent something other than JSON: ${oneLine(text)}`, ExitCode.unavailable);
    }
  }

  private async *readChunks(response: IncomingMessage): AsyncGenerator<string> {
    response.setEncoding("utf8");
    try {
      yield* response as AsyncIterable<string>;
    } catch (err) {
      throw this.connectionFailure("the connection to the edge broke", err as NodeJS.ErrnoException);
    }
  }

  /**
   * Node's HTTP parser fails with HPE_* when the far end does not speak HTTP/1.1; the usual
   * cause is --gateway naming the router's gRPC (HTTP/2) port instead of the edge's REST one.
   */
  private connectionFailure(what: string, err: NodeJS.ErrnoException): CliFailure {
    const code = err.code ?? err.message;
    const hint = code.startsWith("HPE_")
      ? " (it answered something that is not HTTP/1.1: is --gateway the edge's REST address, and not the router's gRPC port?)"
      : "";
    return new CliFailure(`${what} at ${this.base.origin}: ${code}${hint}`, ExitCode.unavailable, { cause: err });
  }

  private failureOf(response: IncomingMessage, text: string): CliFailure {
    const status = response.statusCode ?? 0;
    // Anything but the edge's error shape (a proxy's page, say) is told by its status line and text.
    const body = errorBodyOf(text) ?? { error: `HTTP ${status} ${response.statusMessage ?? ""} from the edge at ${this.base.origin}`, details: oneLine(text) };
    if (status === 401 && !this.token) body.details += " (no token given: set --token or MESHEXEC_TOKEN)";
    const retryAfter = response.headers["retry-after"];
    if (status === 429 && retryAfter) body.details += ` (retry after ${retryAfter} s)`;
    return apiFailure(body, status);
  }
}

/** The edge's `{error, details, code}`, as the one line the CLI prints, with the exit code its status calls for. */
export function apiFailure(body: { error: string; details: string }, status: number): CliFailure {
  return new CliFailure(body.details ? `${body.error}: ${body.details}` : body.error, exitCodeOfHttpStatus(status));
}

function errorBodyOf(text: string): { error: string; details: string } | undefined {
  try {
    const body = JSON.parse(text) as { error?: unknown; details?: unknown };
    if (typeof body.error === "string") return { error: body.error, details: typeof body.details === "string" ? body.details : "" };
  } catch {
    // Not JSON at all.
  }
  return undefined;
}

function parseGatewayUrl(value: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // Reported below, with what was expected.
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw invalidArgument("invalid --gateway", `expected an http:// or https:// URL such as http://127.0.0.1:8080, got "${value}"`);
  }
  return url;
}

/** Keeps a stray body to one short line, so the error stays one line on stderr. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || "(empty body)";
}
