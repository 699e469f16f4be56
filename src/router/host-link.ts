import type { ExecRequestMessage, HostOutcome, OnExecOutput } from "./agent-session.js";

/** A piece of live output of hosts[index]. */
export type OnHostOutput = (index: number, ...piece: Parameters<OnExecOutput>) => void;

/**
 * Who delivers execs to some hosts: an agent's own stream on this router (the AgentSession
 * itself), or another router of the mesh holding them (one forward for all its hosts of a call).
 * Dispatch groups a call's hosts by deliverer, so fan-out, `_any` fallback, deadlines and
 * cancellation are written once, in dispatch.ts, whoever delivers.
 */
export interface ExecDeliverer {
  /**
   * Sends the request to `hosts`, every one of them delivered by this deliverer. `onOutcome(i, …)`
   * is told the outcome of hosts[i] exactly once, and `onOutput` each piece of live output when the
   * order asks for it. Sent at most once: nothing here retries.
   */
  deliver(request: ExecRequestMessage, hosts: readonly HostLink[], onOutcome: (index: number, outcome: HostOutcome) => void, onOutput?: OnHostOutput): void;
  /** Stops waiting for the request on every host still running it, cancels it there, and completes them with `status`. */
  giveUp(requestId: string, status: "failed" | "timeout" | "cancelled", message: string): void;
}

/** One host as target resolution and dispatch see it, wherever its agent is connected. */
export interface HostLink {
  readonly hostname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly draining: boolean;
  readonly inFlight: number;
  /** The router holding the agent's stream (its --name). */
  readonly router: string;
  readonly deliverer: ExecDeliverer;
}
