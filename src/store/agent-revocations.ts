import type Database from "better-sqlite3";

/**
 * Revoked agent hostnames. A revocation refuses every credential for that hostname issued at
 * or before it (a token's iat, a certificate's notBefore); a later revocation replaces an earlier one.
 */
export interface AgentRevocations {
  /** Settles once the revocation holds for every router sharing the store. */
  revoke(hostname: string, at: Date): Promise<void>;
  /** When the hostname was last revoked; undefined if never. */
  revokedAt(hostname: string): Promise<Date | undefined>;
}

export class MemoryAgentRevocations implements AgentRevocations {
  private readonly revoked = new Map<string, Date>();

  async revoke(hostname: string, at: Date): Promise<void> {
    this.revoked.set(hostname, at);
  }

  async revokedAt(hostname: string): Promise<Date | undefined> {
    return this.revoked.get(hostname);
  }
}

/** Written at once, not through the write batch: a revocation must hold before it is answered. */
export class SqliteAgentRevocations implements AgentRevocations {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      upsert: db.prepare(
        `INSERT INTO agent_revocations (hostname, revoked_at) VALUES (?, ?)
         ON CONFLICT (hostname) DO UPDATE SET revoked_at = excluded.revoked_at`,
      ),
      get: db.prepare(`SELECT revoked_at AS revokedAt FROM agent_revocations WHERE hostname = ?`),
    };
  }

  async revoke(hostname: string, at: Date): Promise<void> {
    this.statements.upsert.run(hostname, at.getTime());
  }

  async revokedAt(hostname: string): Promise<Date | undefined> {
    const row = this.statements.get.get(hostname) as { revokedAt: number } | undefined;
    return row ? new Date(row.revokedAt) : undefined;
  }
}
