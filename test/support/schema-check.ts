/**
 * A structural checker for the subset of JSON Schema 2020-12 that the edge's OpenAPI document
 * uses, so specs can prove real answers match it without a validator dependency. A keyword it
 * does not know is an error rather than ignored: a schema it cannot check must not pass.
 */

type Schema = Record<string, any>;

const ANNOTATIONS = new Set(["description", "default", "format", "discriminator", "examples"]);
const CHECKED = new Set([
  "$ref",
  "type",
  "enum",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "prefixItems",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "oneOf",
]);

/** Follows a local `#/…` reference within the document. */
export function resolveRef(document: unknown, ref: string): any {
  if (!ref.startsWith("#/")) throw new Error(`only local references are supported, got ${ref}`);
  return ref
    .slice(2)
    .split("/")
    .reduce((node: any, key) => {
      const next = node?.[key.replace(/~1/g, "/").replace(/~0/g, "~")];
      if (next === undefined) throw new Error(`unresolved reference ${ref}`);
      return next;
    }, document);
}

/** What is wrong with `value` against `schema`, each problem naming its JSON path; empty when it conforms. */
export function schemaProblems(document: unknown, schema: Schema, value: unknown, at = "$"): string[] {
  const unknown = Object.keys(schema).filter((keyword) => !CHECKED.has(keyword) && !ANNOTATIONS.has(keyword));
  if (unknown.length > 0) throw new Error(`the checker does not support ${unknown.join(", ")} (at ${at})`);
  if (schema.$ref) return schemaProblems(document, resolveRef(document, schema.$ref), value, at);

  if (schema.type !== undefined) {
    const types: string[] = [schema.type].flat();
    if (!types.some((type) => hasType(value, type))) return [`${at}: expected ${types.join(" or ")}, got ${JSON.stringify(value)?.slice(0, 80)}`];
  }
  const problems: string[] = [];
  const fail = (problem: string) => problems.push(`${at}: ${problem}`);
  if (schema.enum && !schema.enum.includes(value)) fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.oneOf) {
    const matching = schema.oneOf.filter((option: Schema) => schemaProblems(document, option, value, at).length === 0).length;
    if (matching !== 1) fail(`matches ${matching} of the oneOf schemas, not exactly one`);
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) fail(`shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) fail(`longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) fail(`does not match ${schema.pattern}`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) fail(`below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) fail(`above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) fail(`fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) fail(`more than ${schema.maxItems} items`);
    const prefix: Schema[] = schema.prefixItems ?? [];
    value.forEach((item, i) => {
      const itemSchema = i < prefix.length ? prefix[i] : schema.items;
      if (itemSchema) problems.push(...schemaProblems(document, itemSchema, item, `${at}[${i}]`));
    });
  }
  if (isObject(value)) {
    for (const name of schema.required ?? []) if (!(name in value)) fail(`missing required ${name}`);
    for (const [name, item] of Object.entries(value)) {
      const propertySchema = schema.properties?.[name] ?? schema.additionalProperties;
      if (propertySchema === false) fail(`has ${name}, which the schema does not allow`);
      else if (isObject(propertySchema)) problems.push(...schemaProblems(document, propertySchema, item, `${at}.${name}`));
    }
  }
  return problems;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "integer":
      return Number.isInteger(value);
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    default:
      return typeof value === type;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
