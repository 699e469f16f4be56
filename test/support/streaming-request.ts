import http from "node:http";
import type { HttpReply } from "./test-stack.js";

/**
 * Sends a request whose body is chunked (no Content-Length) and resolves with the reply as soon
 * as it arrives, however much of the body went out: a server may answer before reading it.
 * With `endBody: false` the body never ends, so only a server that answers without it replies.
 */
export function streamingRequest(url: string, headers: Record<string, string>, chunks: Iterable<string>, options: { endBody: boolean }): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", headers });
    request.on("error", reject);
    request.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => {
        request.destroy();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: the spec will say so when it looks.
        }
        const replyHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === "string") replyHeaders.set(name, value);
        resolve({ status: response.statusCode ?? 0, headers: replyHeaders, body });
      });
    });
    const pending = chunks[Symbol.iterator]();
    const pump = (): void => {
      for (let next = pending.next(); !next.done; next = pending.next()) {
        if (request.destroyed) return;
        if (!request.write(next.value)) return void request.once("drain", pump);
      }
      if (options.endBody) request.end();
    };
    pump();
  });
}
