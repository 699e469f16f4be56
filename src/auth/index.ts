export { createTokenVerifier, type Principal, type TokenVerifier } from "./verify-token.js";
export { mintToken, type TokenClaims } from "./mint-token.js";
export { loadSigningKey, loadVerificationKey, type SigningKey, type TokenKeyConfig } from "./token-keys.js";
export { AGENT_CONNECT_SCOPE, requiredScopeByMethod, type GuardedMethod } from "./scopes.js";
export { joinTokenMatches } from "./join-token.js";
export { AGENT_CLAIM, agentGrantOf, agentSubjectOf, mintAgentToken, type AgentGrant } from "./agent-credential.js";
