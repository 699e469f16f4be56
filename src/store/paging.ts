import { invalidArgument } from "../errors/index.js";
import type { Page } from "./job-store.js";

/** Paging cursors are opaque to callers; inside they are the sequence number to continue below. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  const match = /^s(\d+)$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match) throw invalidArgument("invalid cursor", `cursor "${cursor.slice(0, 40)}" was not returned by this API`);
  return Number(match[1]);
}

/** Given up to limit + 1 rows, newest first, the page of `limit` and the cursor to the rest. */
export function pageOf<Row extends { seq: number }, T>(rows: Row[], limit: number, toItem: (row: Row) => T): Page<T> {
  const items = rows.slice(0, limit);
  return { items: items.map(toItem), nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].seq) : undefined };
}
