import type Database from "better-sqlite3";

/**
 * Collects writes and commits them in one transaction per event-loop turn, instead of one
 * transaction each: a job's creation, results, finish and audit entry usually land together.
 * Reads call flush() first, so they always see every write made before them.
 */
export class WriteBatch {
  private readonly pending: Array<() => void> = [];
  private readonly commit: () => void;

  constructor(db: Database.Database) {
    this.commit = db.transaction(() => {
      for (const write of this.pending.splice(0)) write();
    });
  }

  add(write: () => void): void {
    this.pending.push(write);
    if (this.pending.length === 1) setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.pending.length > 0) this.commit();
  }
}
