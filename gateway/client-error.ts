import type { Socket } from "node:net";
import type { ErrorBody } from "../src/errors/index.js";

const ANSWERS: Record<string, { code: number; reason: string; error: string; details: string }> = {
  HPE_HEADER_OVERFLOW: {
    code: 431,
    reason: "Request Header Fields Too Large",
    error: "request headers too large",
    details: "the request's headers exceed the server's limit",
  },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 408, reason: "Request Timeout", error: "request timeout", details: "the request was not received in time" },
};
const BAD_REQUEST = { code: 400, reason: "Bad Request", error: "malformed HTTP request", details: "the request could not be parsed as HTTP/1.1" };

/**
 * Answers a request Node's HTTP parser rejected (bad method, header, framing) before any route
 * saw it. Node's own answer has no body; this one has the error shape every other error has.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
  const { code, reason, error, details } = ANSWERS[err.code ?? ""] ?? BAD_REQUEST;
  const body: ErrorBody = { error, details: err.code ? `${details} (${err.code})` : details, code };
  const json = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
}
