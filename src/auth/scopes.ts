/** The scope each guarded method needs. The edge and the router read the same table. */
export const requiredScopeByMethod = {
  ExecContainer: "docker:execute",
  ListAgents: "agent:read",
  RevokeAgent: "agent:admin",
  GetJob: "job:read",
  ListJobs: "job:read",
  ListAudit: "audit:read",
  RevokeToken: "token:revoke",
} as const;

/** With it, GetJob and ListJobs show every subject's jobs; without it (job:read alone), only the caller's own. */
export const READ_ANY_JOB_SCOPE = "job:read:any";

export type GuardedMethod = keyof typeof requiredScopeByMethod;

/** Held only by per-agent tokens (meshexec token --agent): lets an agent open AgentService.Connect, nothing else. */
export const AGENT_CONNECT_SCOPE = "agent:connect";
