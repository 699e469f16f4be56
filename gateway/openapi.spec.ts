import { expect } from "chai";
import { createTokenVerifier, loadVerificationKey, requiredScopeByMethod, scopesAdmitting, type GuardedMethod } from "../src/auth/index.js";
import { GrpcStatus, MeshError } from "../src/errors/index.js";
import { AuditEntry } from "../src/gen/meshexec/v1/audit.js";
import { AgentInfo, HostResult, RevokeAgentResponse, StreamExecContainerResponse } from "../src/gen/meshexec/v1/exec.js";
import { Job } from "../src/gen/meshexec/v1/jobs.js";
import { RevokeTokenResponse } from "../src/gen/meshexec/v1/tokens.js";
import { createLogger } from "../src/log/index.js";
import { createMetricsRegistry } from "../src/metrics/index.js";
import { OpenApiContract, resolveRef } from "../test/support/openapi-contract.js";
import { createGatewayApp } from "./app.js";
import { buildOpenApiDocument } from "./openapi/document.js";
import type { OperationObject } from "./openapi/openapi-types.js";
import { FakeRouter } from "../test/support/fake-router.js";
import {
  EXEC_BODY_FIELDS,
  agentRevocationToHttp,
  agentToHttp,
  auditEntryToHttp,
  execResponseToHttp,
  hostResultToHttp,
  jobToHttp,
  revokedTokenToHttp,
  streamErrorToHttp,
  streamEventToHttp,
} from "./transcode.js";

/** The errors the issue documents for each operation; the 401 and 403 of guarded ones included. */
const DOCUMENTED_ERRORS: Record<string, number[]> = {
  ExecContainer: [400, 401, 403, 404, 408, 409, 413, 415, 429, 499, 500, 503, 504],
  ListAgents: [401, 403, 499, 500, 503, 504],
  RevokeAgent: [400, 401, 403, 499, 500, 503, 504],
  GetJob: [401, 403, 404, 499, 500, 503, 504],
  CancelJob: [401, 403, 404, 409, 499, 500, 503, 504],
  ListJobs: [400, 401, 403, 499, 500, 503, 504],
  ListAudit: [400, 401, 403, 499, 500, 503, 504],
  RevokeToken: [400, 401, 403, 499, 500, 503, 504],
  GetHealth: [500, 503],
  GetReady: [500, 503],
  GetOpenApiDocument: [500],
};

describe("OpenAPI document (GET /openapi.json)", () => {
  const document = buildOpenApiDocument();
  // Only what the unauthenticated paths and the 401s touch: no router call gets that far.
  const router = new FakeRouter({ isServing: () => true, recordEdgeRefusal: () => ({}) });
  const app = createGatewayApp({
    router,
    verifier: createTokenVerifier(loadVerificationKey({ secret: "openapi-spec-secret-of-32-bytes-at-least" }), { maxLifetimeMs: 3_600_000 }),
    log: createLogger("openapi-spec", "silent"),
    metrics: createMetricsRegistry(),
  });

  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation: operation as OperationObject })),
  );
  const schema = (name: string) => document.components.schemas[name];
  const propertiesOf = (name: string) => Object.keys(schema(name).properties ?? {}).sort();
  const keysOf = (value: object) => Object.keys(value).sort();
  /** As the edge sends it: JSON.stringify leaves out what is undefined. */
  const wire = (value: object) => JSON.parse(JSON.stringify(value));

  it("is OpenAPI 3.1", () => {
    expect(document.openapi).to.match(/^3\.1\.\d+$/);
  });

  it("has one operation per route the edge serves, and a route for every operation", () => {
    // Parameter names are the edge's business; the document uses the proto's. Their places must match.
    const shape = (path: string) => path.replace(/\{[^}]*\}/g, "{}");
    const served = new Set(
      app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${shape(route.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}"))}`),
    );
    const documented = operations.map(({ method, path }) => `${method} ${shape(path)}`);
    expect(documented).to.have.length(new Set(documented).size);
    expect([...documented].sort()).to.deep.equal([...served].sort());
  });

  it("declares every path parameter of each template, and no other", () => {
    for (const { path, operation } of operations) {
      const declared = (operation.parameters ?? [])
        .map((p) => ("$ref" in p ? resolveRef(document, p.$ref) : p))
        .filter((p) => p.in === "path")
        .map((p) => p.name);
      expect(declared, path).to.deep.equal([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
    }
  });

  it("documents exactly the exec body fields the edge accepts", () => {
    const exec = operations.find((o) => o.operation.operationId === "ExecContainer")!.operation;
    const body = resolveRef(document, exec.requestBody!.content["application/json"].schema.$ref!);
    expect(Object.keys(body.properties).sort()).to.deep.equal([...EXEC_BODY_FIELDS].sort());
  });

  it("documents exactly the fields each answer carries, as the edge transcodes them, and requires those JSON never leaves out", () => {
    const result = HostResult.fromJSON({});
    const event = (value: object) => streamEventToHttp(StreamExecContainerResponse.fromJSON(value))!;
    // Every field at its proto3 default, optional ones unset: what the edge writes, and what JSON keeps of it.
    const samples: Record<string, object> = {
      HostResult: hostResultToHttp(result),
      ExecResponse: execResponseToHttp({ jobId: "j", results: [result] }),
      Job: jobToHttp(Job.fromJSON({})),
      AuditEntry: auditEntryToHttp(AuditEntry.fromJSON({})),
      Agent: agentToHttp(AgentInfo.fromJSON({})),
      AgentRevocation: agentRevocationToHttp(RevokeAgentResponse.fromJSON({})),
      RevokedToken: revokedTokenToHttp(RevokeTokenResponse.fromJSON({})),
      StreamAccepted: event({ accepted: {} }),
      StreamResult: event({ result: {} }),
      StreamSummary: event({ summary: {} }),
      StreamError: streamErrorToHttp(new MeshError(GrpcStatus.INTERNAL, "e", "d")),
    };
    for (const [name, sample] of Object.entries(samples)) {
      expect(propertiesOf(name), name).to.deep.equal(keysOf(sample));
      expect([...schema(name).required!].sort(), `${name} required`).to.deep.equal(keysOf(wire(sample)));
    }
    expect(keysOf(wire(samples.HostResult)), "a result without an exit").to.not.include("exit_code");
  });

  it("holds schemas a strict JSON Schema 2020-12 validator compiles, and a result without an exit conforms while a null exit does not", () => {
    const contract = new OpenApiContract(JSON.parse(JSON.stringify(document)));
    for (const name of Object.keys(document.components.schemas)) expect(() => contract.problems(`#/components/schemas/${name}`, {}), name).to.not.throw();
    const notRun = hostResultToHttp(HostResult.fromJSON({ hostname: "h", status: "failed", error: "agent disconnected" }));
    expect(contract.problems("#/components/schemas/HostResult", wire(notRun))).to.deep.equal([]);
    expect(contract.problems("#/components/schemas/HostResult", { ...wire(notRun), exit_code: null })).to.not.be.empty;
  });

  it("asks for the scope each method needs where the edge asks for a token, and for none elsewhere", async () => {
    for (const { method, path, operation } of operations) {
      const concrete = path.replace(/\{\w+\}/g, "x");
      const reply = await app.request(concrete, { method, ...(method === "POST" && { headers: { "content-type": "application/json" }, body: "{}" }) });
      if (reply.status === 401) {
        const scope = requiredScopeByMethod[operation.operationId as GuardedMethod];
        expect(scope, `${path} answers 401, so it names a guarded method`).to.be.a("string");
        // One requirement per scope that will do: any one of them lets the caller in.
        const scopes = scopesAdmitting(operation.operationId as GuardedMethod);
        expect(operation.security, path).to.deep.equal(scopes.map((s) => ({ bearerAuth: [s] })));
      } else {
        expect(operation.security, `${path} answers ${reply.status} without a token`).to.deep.equal([]);
      }
    }
    expect(document.components.securitySchemes.bearerAuth).to.include({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
  });

  it("lists each operation's documented errors, every one in the ErrorBody shape with the trace headers", () => {
    expect(operations.map((o) => o.operation.operationId).sort()).to.deep.equal(Object.keys(DOCUMENTED_ERRORS).sort());
    for (const { path, operation } of operations) {
      const errors = Object.keys(operation.responses)
        .map(Number)
        .filter((status) => status >= 400);
      expect(errors, path).to.deep.equal(DOCUMENTED_ERRORS[operation.operationId]);
      for (const status of errors) {
        const response = operation.responses[status];
        const context = `${path} ${status}`;
        expect(response.content, context).to.deep.equal({ "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } });
        expect(Object.keys(response.headers ?? {}), context).to.include.members(["x-request-id", "traceparent"]);
        if (status === 401) expect(response.headers, context).to.have.property("WWW-Authenticate");
      }
    }
  });

  it("documents the trace headers on every success too", () => {
    for (const { path, operation } of operations) {
      const successes = Object.entries(operation.responses).filter(([status]) => Number(status) < 400);
      expect(successes, path).to.not.be.empty;
      for (const [status, response] of successes)
        expect(Object.keys(response.headers ?? {}), `${path} ${status}`).to.include.members(["x-request-id", "traceparent"]);
    }
  });

  it("has no reference that does not resolve", () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === "object" && node !== null) {
        for (const [key, value] of Object.entries(node)) key === "$ref" ? refs.push(value as string) : walk(value);
      }
    };
    walk(document);
    expect(refs).to.not.be.empty;
    for (const ref of refs) expect(() => resolveRef(document, ref), ref).to.not.throw();
  });

  it("turns the env key rule into an entry pattern that takes KEY=VALUE and refuses the rest", () => {
    const entry = new RegExp(schema("ExecRequest").properties!.env.items!.pattern!, "u");
    for (const good of ["A=1", "_x9=", "PATH=/bin:/usr/bin", "K=a=b"]) expect(entry.test(good), good).to.equal(true);
    for (const bad of ["A", "=x", "9A=x", "A-B=x", " A=x"]) expect(entry.test(bad), bad).to.equal(false);
  });

  it("is what GET /openapi.json serves, without a token", async () => {
    const reply = await app.request("/openapi.json");
    expect(reply.status).to.equal(200);
    expect(await reply.json()).to.deep.equal(JSON.parse(JSON.stringify(document)));
  });
});
