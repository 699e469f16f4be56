/**
 * The jtis of caller tokens that must be refused. A revocation is kept until every token it
 * could refuse has expired (the router prunes it after the longest lifetime a token may have);
 * nothing else ever deletes one.
 */
export interface TokenRevocations {
  /** Refuses jti from now on; revoking it again keeps the first time. Returns when it was first revoked. */
  revoke(jti: string, at: Date): Promise<Date>;
  /** Asked on every authenticated call (once per call, never per host), so it must be cheap: one primary-key lookup. */
  isRevoked(jti: string): Promise<boolean>;
  /** Forgets the revocations made before cutoff; returns how many. */
  pruneBefore(cutoff: Date): Promise<number>;
}

/** In-memory TokenRevocations, for unit tests; nothing survives the process. */
export class MemoryTokenRevocations implements TokenRevocations {
  private readonly revokedAt = new Map<string, Date>();

  async revoke(jti: string, at: Date): Promise<Date> {
    const first = this.revokedAt.get(jti) ?? at;
    this.revokedAt.set(jti, first);
    return first;
  }

  async isRevoked(jti: string): Promise<boolean> {
    return this.revokedAt.has(jti);
  }

  async pruneBefore(cutoff: Date): Promise<number> {
    const old = [...this.revokedAt].filter(([, at]) => at < cutoff);
    old.forEach(([jti]) => this.revokedAt.delete(jti));
    return old.length;
  }
}
