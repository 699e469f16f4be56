import { MESHEXEC_VERSION } from "../../src/version.js";
import type { OpenApiDocument } from "./openapi-types.js";
import { BEARER_SCHEME, parameters, paths } from "./paths.js";
import { headers } from "./responses.js";
import { schemas } from "./schemas.js";

/**
 * The OpenAPI 3.1 document of the REST edge, served at GET /openapi.json. Built from the same
 * limits, scopes and transcode shapes the edge and the router use, so it cannot drift from them
 * silently; gateway/openapi.spec.ts keeps its paths in step with the routes.
 */
export function buildOpenApiDocument(): OpenApiDocument {
  return {
    openapi: "3.1.0",
    info: {
      title: "meshexec REST API",
      version: MESHEXEC_VERSION,
      description:
        "Run commands in Docker containers across a fleet. Every error, from every layer, is application/json {error, details, code}; " +
        "a method a path does not take is a 405 with Allow, an unknown path a 404, both in the same shape.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    // Relative: the API is wherever this document was fetched from (the edge serves both).
    servers: [{ url: "/", description: "The edge that served this document." }],
    paths,
    components: {
      schemas,
      parameters,
      headers,
      securitySchemes: {
        [BEARER_SCHEME]: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "HS256, RS256 or ES256 as the edge is configured; exp, sub and iat (or nbf) required, living at most --max-token-ttl. Scopes come from the scope claim (space separated) or permissions (an array).",
        },
      },
    },
  };
}
