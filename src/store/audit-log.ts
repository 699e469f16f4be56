import type { Page } from "./job-store.js";

/**
 * One exec attempt, refused or not. Tokens and env values never go in: only who, from where,
 * what they asked to run, and how it ended.
 */
export interface NewAuditEntry {
  time: Date;
  /** The token's subject; empty when the token did not verify. */
  subject: string;
  /** The caller's address as the edge saw it, and the peer that made the gRPC call. */
  sourceAddress: string;
  target: string;
  containerId: string;
  command: string[];
  /** The gRPC status name, e.g. OK, UNAUTHENTICATED. */
  grpcCode: string;
  httpStatus: number;
  jobId: string;
  requestId: string;
  /** The error's short sentence, when refused. */
  error: string;
}

export interface AuditEntry extends NewAuditEntry {
  id: string;
}

/** Append-only: entries are added and read, never changed or removed. */
export interface AuditLog {
  append(entry: NewAuditEntry): void;
  /** Newest first. */
  list(query: { limit: number; cursor?: string }): Page<AuditEntry>;
}
