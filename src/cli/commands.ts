import type { Command } from "./command.js";

export interface CommandEntry {
  summary: string;
  load(): Promise<Command<any>>;
}

/**
 * Each command's module, loaded only when that command runs: a router then never loads the
 * agent's Docker client (dockerode, ssh2) nor the edge's HTTP stack, 16 MiB of its RSS. The
 * summaries live here, so `meshexec --help` loads none of them (loading all took ~500 ms).
 */
export const commands: Record<string, CommandEntry> = {
  router: { summary: "Serves the gRPC API to callers and holds the agents' streams.", load: async () => (await import("./router.js")).routerCommand },
  gateway: {
    summary: "Serves the REST API and transcodes each call to one gRPC call on the router.",
    load: async () => (await import("./gateway.js")).gatewayCommand,
  },
  agent: {
    summary: "Dials out to the router and runs the execs it sends on this node's Docker engine.",
    load: async () => (await import("./agent.js")).agentCommand,
  },
  token: {
    summary: "Prints a signed JWT for a caller, or for one agent (--agent), as its last line; its jti goes to stderr (meshexec token revoke JTI).",
    load: async () => (await import("./token.js")).tokenCommand,
  },
  "token revoke": {
    summary: "Revokes a caller token by its jti (meshexec token prints it): the router refuses it from its next call. Needs token:revoke.",
    load: async () => (await import("./token-revoke.js")).tokenRevokeCommand,
  },
  dev: {
    summary: "Runs a router, an edge and one agent for the local Docker engine, in one process.",
    load: async () => (await import("./dev.js")).devCommand,
  },
  exec: {
    summary: "Runs a command in a container on the targeted agents and prints each host's result.",
    load: async () => (await import("./exec.js")).execCommand,
  },
  agents: {
    summary: "Lists the agents connected to the router: hostname, labels, connected since, execs in flight.",
    load: async () => (await import("./agents.js")).agentsCommand,
  },
  "agents revoke": {
    summary: "Ends an agent's session and refuses every credential issued until now for its hostname. Needs agent:admin.",
    load: async () => (await import("./agents-revoke.js")).agentsRevokeCommand,
  },
  job: {
    summary: "Prints one job: what ran, where, and each host's result, laid out as exec prints it; --wait follows a running one to its end.",
    load: async () => (await import("./job.js")).jobCommand,
  },
  "job cancel": {
    summary:
      "Cancels a running job: running hosts are killed (cancelled), unstarted ones skipped. Your own jobs with docker:execute; anyone's with job:cancel.",
    load: async () => (await import("./job-cancel.js")).jobCancelCommand,
  },
  jobs: {
    summary: "Lists recent jobs of your subject (every subject's with job:read:any), newest first; meshexec job ID shows one in full.",
    load: async () => (await import("./jobs.js")).jobsCommand,
  },
  audit: {
    summary: "Lists the audit log, newest first: every exec attempt, refused ones included. Needs audit:read.",
    load: async () => (await import("./audit.js")).auditCommand,
  },
};
