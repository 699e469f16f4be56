/**
 * What a token's jti may be: what meshexec token mints (a UUID) or an identity provider would,
 * printable ASCII and bounded, so that every token that has one can be revoked by it through
 * POST /tokens/{jti}/revoke.
 */
const TOKEN_ID = /^[\x21-\x7e]{1,128}$/;

export const TOKEN_ID_RULE = "1 to 128 printable ASCII characters";

export function isTokenId(value: unknown): boolean {
  return typeof value === "string" && TOKEN_ID.test(value);
}
