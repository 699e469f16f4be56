import type Database from "better-sqlite3";
import type { TokenRevocations } from "./token-revocations.js";

/**
 * Revocations in the router's SQLite file. Written at once, not through the write batch: the
 * caller is told a token is revoked only once that survives a crash. A lookup by primary key
 * is one B-tree probe, a few µs, which every authenticated call pays.
 */
export class SqliteTokenRevocations implements TokenRevocations {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      insert: db.prepare(`INSERT INTO token_revocations (jti, revoked_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING`),
      revokedAt: db.prepare(`SELECT revoked_at FROM token_revocations WHERE jti = ?`).pluck(),
      prune: db.prepare(`DELETE FROM token_revocations WHERE revoked_at < ?`),
    };
  }

  async revoke(jti: string, at: Date): Promise<Date> {
    this.statements.insert.run(jti, at.getTime());
    return new Date(this.statements.revokedAt.get(jti) as number);
  }

  async isRevoked(jti: string): Promise<boolean> {
    return this.statements.revokedAt.get(jti) !== undefined;
  }

  async pruneBefore(cutoff: Date): Promise<number> {
    return this.statements.prune.run(cutoff.getTime()).changes;
  }
}
