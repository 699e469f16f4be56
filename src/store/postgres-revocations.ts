import type { AgentRevocations } from "./agent-revocations.js";
import type { PostgresDatabase } from "./postgres-database.js";
import type { TokenRevocations } from "./token-revocations.js";

/**
 * Revoked token ids in PostgreSQL: every router of the mesh asks the same table, so a revocation
 * holds on each of them from the moment it is answered. A lookup is one primary-key probe per
 * authenticated call (about 0.1 ms on a local database), never one per host.
 */
export class PostgresTokenRevocations implements TokenRevocations {
  constructor(private readonly db: PostgresDatabase) {}

  async revoke(jti: string, at: Date): Promise<Date> {
    // The no-op update makes RETURNING give the first revocation's time when there is one.
    const { rows } = await this.db.query(
      `INSERT INTO token_revocations (jti, revoked_at) VALUES ($1, $2)
       ON CONFLICT (jti) DO UPDATE SET revoked_at = token_revocations.revoked_at RETURNING revoked_at`,
      [jti, at],
    );
    return rows[0].revoked_at as Date;
  }

  async isRevoked(jti: string): Promise<boolean> {
    const { rowCount } = await this.db.query(`SELECT 1 FROM token_revocations WHERE jti = $1`, [jti]);
    return (rowCount ?? 0) > 0;
  }

  async pruneBefore(cutoff: Date): Promise<number> {
    const { rowCount } = await this.db.query(`DELETE FROM token_revocations WHERE revoked_at < $1`, [cutoff]);
    return rowCount ?? 0;
  }
}

/** Revoked agent hostnames in PostgreSQL, asked when an agent says hello to any router. */
export class PostgresAgentRevocations implements AgentRevocations {
  constructor(private readonly db: PostgresDatabase) {}

  async revoke(hostname: string, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO agent_revocations (hostname, revoked_at) VALUES ($1, $2) ON CONFLICT (hostname) DO UPDATE SET revoked_at = excluded.revoked_at`,
      [hostname, at],
    );
  }

  async revokedAt(hostname: string): Promise<Date | undefined> {
    const { rows } = await this.db.query(`SELECT revoked_at FROM agent_revocations WHERE hostname = $1`, [hostname]);
    return rows[0]?.revoked_at as Date | undefined;
  }
}
