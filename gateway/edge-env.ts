import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { TraceContext } from "../src/trace/index.js";
import type { RouterCallContext } from "./router-client.js";

/** What the edge's middleware leaves on each request for the handlers after it. */
export type EdgeEnv = {
  Bindings: { incoming?: IncomingMessage };
  Variables: {
    trace: TraceContext;
    /** The token's subject, once the edge has verified it. */
    subject?: string;
    /** Set just before the router is called: from then on the router audits the attempt itself. */
    routerCalled?: boolean;
  };
};

export type EdgeContext = Context<EdgeEnv>;

/** Everything the router needs to hear about this request besides its body. */
export function routerCallContext(c: EdgeContext, deadlineMs: number): RouterCallContext {
  c.set("routerCalled", true);
  return {
    authorization: c.req.header("authorization"),
    trace: c.get("trace"),
    clientAddress: clientAddressOf(c),
    deadlineMs,
    signal: c.req.raw.signal,
  };
}

export function clientAddressOf(c: EdgeContext): string | undefined {
  return c.env?.incoming ? getConnInfo(c).remote.address : undefined;
}
