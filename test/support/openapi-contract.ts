import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { expect } from "chai";
import type { HttpReply } from "./test-stack.js";

/** The id the document is known by inside the validator; references in it are local (`#/…`). */
const DOCUMENT_ID = "https://meshexec.invalid/openapi.json";

/** Follows a local `#/…` reference (a JSON pointer in a URI fragment) within the document. */
export function resolveRef(document: unknown, ref: string): any {
  if (!ref.startsWith("#/")) throw new Error(`only local references are supported, got ${ref}`);
  return ref
    .slice(2)
    .split("/")
    .reduce((node: any, key) => {
      const next = node?.[decodeURIComponent(key).replace(/~1/g, "/").replace(/~0/g, "~")];
      if (next === undefined) throw new Error(`unresolved reference ${ref}`);
      return next;
    }, document);
}

/** `#/a/b` from the keys a, b: each escaped as a JSON pointer, then as a URI fragment. */
export function pointerTo(...keys: string[]): string {
  return `#/${keys.map((key) => encodeURIComponent(key.replace(/~/g, "~0").replace(/\//g, "~1"))).join("/")}`;
}

/**
 * The edge's OpenAPI document, checked with a JSON Schema 2020-12 validator (Ajv). Strict: a
 * keyword the validator does not know, a format it cannot check or a union it would read loosely
 * fails the compile, so a schema it cannot check never passes.
 */
export class OpenApiContract {
  // strictTuples is off: the exec body's command uses prefixItems for its first entry (the program)
  // in a list of any length, which that rule takes for a tuple left unfinished.
  private readonly ajv = new Ajv2020({ strict: true, strictTuples: false, allowUnionTypes: true, allErrors: true });

  constructor(readonly document: any) {
    formats.default(this.ajv);
    // The document's own fields around its schemas, and OpenAPI's discriminator: it only says
    // which branch of a oneOf to read first, and the validator checks the oneOf in full.
    this.ajv.addVocabulary(Object.keys(document).concat("discriminator"));
    this.ajv.addSchema(document, DOCUMENT_ID);
  }

  /** What is wrong with `value` against the schema at `pointer` (see pointerTo), each naming its place; empty when it conforms. */
  problems(pointer: string, value: unknown): string[] {
    const validate = this.ajv.getSchema(`${DOCUMENT_ID}${pointer}`) as ValidateFunction | undefined;
    if (!validate) throw new Error(`no schema at ${pointer}`);
    return validate(value) ? [] : (validate.errors ?? []).map(describeError);
  }

  /** Asserts the reply is one the document describes for this operation: its status, content type, required headers and body. */
  expectDocumented(method: "get" | "post", path: string, reply: HttpReply): void {
    const context = `${method.toUpperCase()} ${path} → ${reply.status} ${JSON.stringify(reply.body)?.slice(0, 300)}`;
    const response = this.responseOf(method, path, reply.status, context);
    for (const [name, header] of Object.entries<any>(response.headers ?? {})) {
      const headerPointer: string = header.$ref ?? pointerTo("paths", path, method, "responses", String(reply.status), "headers", name);
      const value = reply.headers.get(name);
      if (resolveRef(this.document, headerPointer).required) expect(value, `${context}: header ${name}`).to.be.a("string");
      if (value !== null) expect(this.problems(`${headerPointer}/schema`, value), `${context}: header ${name}`).to.deep.equal([]);
    }
    const [mediaType] = Object.keys(response.content);
    expect(reply.headers.get("content-type"), context).to.satisfy((type: string) => type.startsWith(mediaType));
    this.expectBodyDocumented(method, path, reply.status, reply.body, context);
  }

  /**
   * Asserts a body is one the document describes for this operation and status, however it came
   * (the CLI's --json prints the edge's body as it came). NDJSON's schema is one line's.
   */
  expectBodyDocumented(method: "get" | "post", path: string, status: number, body: unknown, context = `${method.toUpperCase()} ${path} → ${status}`): void {
    const [mediaType] = Object.keys(this.responseOf(method, path, status, context).content);
    const schema = pointerTo("paths", path, method, "responses", String(status), "content", mediaType, "schema");
    const bodies =
      mediaType === "application/x-ndjson"
        ? (body as string)
            .trimEnd()
            .split("\n")
            .map((line) => JSON.parse(line))
        : [body];
    bodies.forEach((item) => expect(this.problems(schema, item), `${context}\n${JSON.stringify(item)?.slice(0, 500)}`).to.deep.equal([]));
  }

  private responseOf(method: "get" | "post", path: string, status: number, context: string): any {
    const response = this.document.paths[path]?.[method]?.responses[String(status)];
    expect(response, `${context}: the status is documented`).to.be.an("object");
    return response;
  }
}

function describeError(error: ErrorObject): string {
  const params = Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : "";
  return `$${error.instancePath}: ${error.message}${params}`;
}
