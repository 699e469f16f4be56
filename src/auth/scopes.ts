/** The scope each ExecService method needs. The edge and the router read the same table. */
export const requiredScopeByMethod = {
  ExecContainer: "docker:execute",
  ListAgents: "agent:read",
} as const;

export type GuardedMethod = keyof typeof requiredScopeByMethod;
