export { createTokenVerifier, type Principal, type TokenVerifier, type VerifierOptions } from "./verify-token.js";
export { mintToken, type TokenClaims } from "./mint-token.js";
export { loadSigningKey, loadVerificationKey, type SigningKey, type TokenKeyConfig } from "./token-keys.js";
export {
  AGENT_CONNECT_SCOPE,
  CANCEL_ANY_JOB_SCOPE,
  READ_ANY_JOB_SCOPE,
  alternativeScopesByMethod,
  requiredScopeByMethod,
  scopesAdmitting,
  type GuardedMethod,
} from "./scopes.js";
export { DEFAULT_MAX_TOKEN_TTL, checkMintTtl } from "./token-lifetime.js";
export { TOKEN_ID_RULE, isTokenId } from "./token-id.js";
export { joinTokenMatches } from "./join-token.js";
export { GRANT_CLAIMS, execGrantsOf, grantClaimsOf, grantLimits, targetGrantAllows, type ExecGrants, type TargetGrant } from "./exec-grants.js";
export { AGENT_CLAIM, agentGrantOf, agentSubjectOf, mintAgentToken, type AgentGrant } from "./agent-credential.js";
