/** The scope each guarded method needs. The edge and the router read the same table. */
export const requiredScopeByMethod = {
  ExecContainer: "docker:execute",
  ListAgents: "agent:read",
  RevokeAgent: "agent:admin",
  GetJob: "job:read",
  ListJobs: "job:read",
  ListAudit: "audit:read",
  /**
   * The edge's own credential (`meshexec gateway --router-token`): it records the edge's refusals
   * and makes the router believe the client address the edge forwards. It runs nothing.
   */
  RecordEdgeRefusal: "audit:record",
  RevokeToken: "token:revoke",
  /** One's own job; anyone's needs CANCEL_ANY_JOB_SCOPE instead. */
  CancelJob: "docker:execute",
} as const;

/** With it, GetJob and ListJobs show every subject's jobs; without it (job:read alone), only the caller's own. */
export const READ_ANY_JOB_SCOPE = "job:read:any";

/** With it, CancelJob cancels any subject's job; without it (docker:execute alone), only the caller's own. */
export const CANCEL_ANY_JOB_SCOPE = "job:cancel";

export type GuardedMethod = keyof typeof requiredScopeByMethod;

/** Scopes that will do instead of a method's required one (the method then decides what each allows). */
export const alternativeScopesByMethod: Partial<Record<GuardedMethod, readonly string[]>> = { CancelJob: [CANCEL_ANY_JOB_SCOPE] };

/** Every scope that lets a caller into `method`: its required one, and its alternatives. */
export function scopesAdmitting(method: GuardedMethod): readonly string[] {
  return [requiredScopeByMethod[method], ...(alternativeScopesByMethod[method] ?? [])];
}

/** Held only by per-agent tokens (meshexec token --agent): lets an agent open AgentService.Connect, nothing else. */
export const AGENT_CONNECT_SCOPE = "agent:connect";
