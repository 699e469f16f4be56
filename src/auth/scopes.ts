/** The scope each guarded method needs. The edge and the router read the same table. */
export const requiredScopeByMethod = {
  ExecContainer: "docker:execute",
  ListAgents: "agent:read",
  GetJob: "job:read",
  ListJobs: "job:read",
  ListAudit: "audit:read",
  /**
   * The edge's own credential (`meshexec gateway --router-token`): it records the edge's refusals
   * and makes the router believe the client address the edge forwards. It runs nothing.
   */
  RecordEdgeRefusal: "audit:record",
} as const;

export type GuardedMethod = keyof typeof requiredScopeByMethod;
