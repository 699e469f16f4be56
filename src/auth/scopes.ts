/** The scope each guarded method needs. The edge and the router read the same table. */
export const requiredScopeByMethod = {
  ExecContainer: "docker:execute",
  ListAgents: "agent:read",
  RevokeAgent: "agent:admin",
  GetJob: "job:read",
  ListJobs: "job:read",
  ListAudit: "audit:read",
} as const;

export type GuardedMethod = keyof typeof requiredScopeByMethod;

/** Held only by per-agent tokens (meshexec token --agent): lets an agent open AgentService.Connect, nothing else. */
export const AGENT_CONNECT_SCOPE = "agent:connect";
