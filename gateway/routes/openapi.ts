import type { Handler } from "hono";
import type { EdgeEnv } from "../edge-env.js";
import { buildOpenApiDocument } from "../openapi/document.js";

/** GET /openapi.json: needs no token, so clients and tools can discover the API before they hold one. */
export function openApiRoute(): Handler<EdgeEnv> {
  const document = buildOpenApiDocument();
  return (c) => c.json(document);
}
