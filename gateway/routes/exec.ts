import type { Handler } from "hono";
import { stream } from "hono/streaming";
import { AGENT_ANSWER_GRACE_MS, execLimits } from "../../src/contract/index.js";
import { asMeshError, invalidArgument } from "../../src/errors/index.js";
import type { StreamExecContainerResponse } from "../../src/gen/meshexec/v1/exec.js";
import { routerCallContext, type EdgeContext, type EdgeEnv } from "../edge-env.js";
import { parseJsonBody, readBodyText } from "../json-body.js";
import { booleanQuery } from "../query-params.js";
import type { RouterClient } from "../router-client.js";
import { execRequestFromHttp, execResponseToHttp, streamErrorToHttp, streamEventToHttp } from "../transcode.js";

export const IDEMPOTENCY_KEY = execLimits.idempotencyKeyPattern;

/**
 * POST /node/:hostname/container/docker/:id/exec: one ExecContainer call, answered 202 with
 * every host's result; or with ?stream=true one StreamExecContainer call, answered as NDJSON
 * while hosts finish; or with ?async=true answered at once with the job id.
 */
export function execRoute(router: RouterClient): Handler<EdgeEnv> {
  return async (c) => {
    const streamed = booleanQuery(c, "stream");
    const request = {
      ...execRequestFromHttp(c.req.param("hostname") ?? "", c.req.param("id") ?? "", parseJsonBody(await readBodyText(c.req.raw))),
      async: booleanQuery(c, "async") || undefined,
      // Output events are on by default in a stream; ?output=false leaves them out.
      omitOutput: c.req.query("output") !== undefined && !booleanQuery(c, "output") ? true : undefined,
      idempotencyKey: idempotencyKeyOf(c),
    };
    if (streamed && request.async) throw invalidArgument("invalid query", "stream and async cannot be combined: an async exec has nothing to stream");
    const timeoutMs = (request.timeoutSeconds ?? execLimits.defaultTimeoutSeconds) * 1000;
    const context = routerCallContext(c, timeoutMs + AGENT_ANSWER_GRACE_MS + 1_000);
    if (!streamed) return c.json(execResponseToHttp(await router.execContainer(request, context)), 202);

    const events = router.streamExecContainer(request, context);
    // A refusal comes before the first event; it is answered as any error is, with its status.
    const first = await events.next();
    return streamNdjson(c, first.done ? [] : [first.value], events);
  };
}

function streamNdjson(c: EdgeContext, head: StreamExecContainerResponse[], rest: AsyncGenerator<StreamExecContainerResponse>): Response {
  c.header("Content-Type", "application/x-ndjson");
  return stream(c, async (out) => {
    const writeLine = async (line: unknown) => {
      if (line !== undefined) await out.write(`${JSON.stringify(line)}\n`);
    };
    try {
      for (const event of head) await writeLine(streamEventToHttp(event));
      for await (const event of rest) await writeLine(streamEventToHttp(event));
    } catch (err) {
      // The status line is long gone; a failure mid-stream is the last line instead.
      await writeLine(streamErrorToHttp(asMeshError(err)));
    }
  });
}

function idempotencyKeyOf(c: EdgeContext): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw invalidArgument("invalid Idempotency-Key", "Idempotency-Key must be 1 to 255 printable ASCII characters");
  return key;
}
