/**
 * The part of OpenAPI 3.1 (and of its JSON Schema 2020-12 dialect) that the edge's document
 * uses: typed, so a misspelt keyword is a compile error rather than a silently ignored key.
 */

export type JsonType = "string" | "integer" | "number" | "boolean" | "object" | "array" | "null";

export interface JsonSchema {
  $ref?: string;
  description?: string;
  /** An array for the nullable fields: OpenAPI 3.1 has no `nullable`. */
  type?: JsonType | readonly JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  prefixItems?: readonly JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  enum?: readonly (string | number | boolean | null)[];
  oneOf?: readonly JsonSchema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
}

export interface Reference {
  $ref: string;
}

export interface HeaderObject {
  description: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface MediaTypeObject {
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject | Reference>;
  content?: Record<string, MediaTypeObject>;
}

export interface ParameterObject {
  name: string;
  in: "path" | "query" | "header";
  description: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface RequestBodyObject {
  description?: string;
  required: boolean;
  content: Record<string, MediaTypeObject>;
}

/** Scheme name → the scopes an operation needs. OpenAPI 3.1 allows scopes for non-OAuth schemes too. */
export type SecurityRequirement = Record<string, readonly string[]>;

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  /** `[]` marks an operation that needs no token. */
  security: readonly SecurityRequirement[];
  parameters?: readonly (ParameterObject | Reference)[];
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject>;
}

export interface PathItemObject {
  get?: OperationObject;
  post?: OperationObject;
}

export interface OpenApiDocument {
  openapi: `3.1.${number}`;
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers: readonly { url: string; description: string }[];
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, JsonSchema>;
    parameters: Record<string, ParameterObject>;
    headers: Record<string, HeaderObject>;
    securitySchemes: Record<string, { type: "http"; scheme: "bearer"; bearerFormat: string; description: string }>;
  };
}
