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

/**
 * The youngest an audit entry may be and still be deleted: the only deletion the log allows is
 * pruning entries past their retention (--audit-ttl), which may not be shorter than this. The
 * SQLite table enforces it itself, so no code path (or a caller's clock) can delete fresh entries.
 */
export const AUDIT_PRUNE_FLOOR_MS = 86_400_000;

/** What every store answers a refused prune with (the SQLite and PostgreSQL triggers raise these words). */
export const AUDIT_PRUNE_REFUSED = "the audit log is append-only: only entries older than 1 day may be pruned";

/** Append-only: entries are added and read, never changed; only entries past their retention are removed. */
export interface AuditLog {
  /** Settles once the entry is kept; rejects with UNAVAILABLE when the database cannot be reached. */
  append(entry: NewAuditEntry): Promise<void>;
  /**
   * Removes the entries older than `cutoff`; returns how many. Throws, removing nothing, when that
   * would remove an entry younger than AUDIT_PRUNE_FLOOR_MS.
   */
  pruneBefore(cutoff: Date): Promise<number>;
  /** Newest first. */
  list(query: { limit: number; cursor?: string }): Promise<Page<AuditEntry>>;
}
