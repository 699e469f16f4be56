import type { AgentRevocations } from "./agent-revocations.js";
import type { PostgresDatabase } from "./postgres-database.js";
import type { TokenRevocations } from "./token-revocations.js";

/** How long a token found not revoked is believed so before the table is asked again. */
const NOT_REVOKED_FOR_MS = 1_000;
/** Past this many tokens seen within a second, the oldest answers are dropped (and asked again). */
const MAX_REMEMBERED = 10_000;

/**
 * Revoked token ids in PostgreSQL: every router of the mesh asks the same table. A token found not
 * revoked is believed for NOT_REVOKED_FOR_MS, so a busy caller costs one primary-key lookup a
 * second, not one per call (nor one more for the edge's own token on each call); a revocation made
 * through another router holds here within that second, and through this one at once.
 */
export class PostgresTokenRevocations implements TokenRevocations {
  /** jti → when it was last found not revoked. */
  private readonly notRevokedAt = new Map<string, number>();

  constructor(private readonly db: PostgresDatabase) {}

  async revoke(jti: string, at: Date): Promise<Date> {
    // The no-op update makes RETURNING give the first revocation's time when there is one.
    const { rows } = await this.db.query(
      `INSERT INTO token_revocations (jti, revoked_at) VALUES ($1, $2)
       ON CONFLICT (jti) DO UPDATE SET revoked_at = token_revocations.revoked_at RETURNING revoked_at`,
      [jti, at],
    );
    this.notRevokedAt.delete(jti);
    return rows[0].revoked_at as Date;
  }

  async isRevoked(jti: string): Promise<boolean> {
    const checkedAt = this.notRevokedAt.get(jti);
    if (checkedAt !== undefined && Date.now() - checkedAt < NOT_REVOKED_FOR_MS) return false;
    const { rowCount } = await this.db.query(`SELECT 1 FROM token_revocations WHERE jti = $1`, [jti]);
    const revoked = (rowCount ?? 0) > 0;
    this.notRevokedAt.delete(jti);
    if (!revoked) {
      if (this.notRevokedAt.size >= MAX_REMEMBERED) this.notRevokedAt.delete(this.notRevokedAt.keys().next().value!);
      this.notRevokedAt.set(jti, Date.now());
    }
    return revoked;
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
