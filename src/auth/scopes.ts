/** The scope each guarded method needs. The edge and the router read the same table. */
export const requiredScopeByMethod = {
  ExecContainer: "docker:execute",
  ListAgents: "agent:read",
  GetJob: "job:read",
  ListJobs: "job:read",
  ListAudit: "audit:read",
} as const;

export type GuardedMethod = keyof typeof requiredScopeByMethod;
