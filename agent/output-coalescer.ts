import type { OutputStreamName } from "./runtime/index.js";

/** A piece goes up the stream once this much has built up… */
export const OUTPUT_PIECE_MAX_BYTES = 16 * 1024;
/** …or once this long has passed since the first byte waiting, whichever comes first. */
export const OUTPUT_FLUSH_INTERVAL_MS = 50;

/**
 * Gathers one exec's live output into pieces for the router: a command that writes a byte at a
 * time would otherwise send a message per byte, each costing a frame on the agent's one stream
 * and a callback in the router. Order is kept per stream; close() sends what is left, so every
 * piece goes out before the exec's reply.
 */
export class OutputCoalescer {
  private readonly waiting: Record<OutputStreamName, { chunks: Buffer[]; bytes: number }> = {
    stdout: { chunks: [], bytes: 0 },
    stderr: { chunks: [], bytes: 0 },
  };
  private timer?: NodeJS.Timeout;

  constructor(private readonly send: (stream: OutputStreamName, data: Buffer) => void) {}

  push(stream: OutputStreamName, chunk: Buffer): void {
    const waiting = this.waiting[stream];
    waiting.chunks.push(chunk);
    waiting.bytes += chunk.length;
    if (waiting.bytes >= OUTPUT_PIECE_MAX_BYTES) {
      const all = Buffer.concat(waiting.chunks, waiting.bytes);
      let sent = 0;
      for (; all.length - sent >= OUTPUT_PIECE_MAX_BYTES; sent += OUTPUT_PIECE_MAX_BYTES) this.send(stream, all.subarray(sent, sent + OUTPUT_PIECE_MAX_BYTES));
      waiting.chunks = sent < all.length ? [all.subarray(sent)] : [];
      waiting.bytes = all.length - sent;
    }
    if (waiting.bytes > 0) this.timer ??= setTimeout(() => this.flush(), OUTPUT_FLUSH_INTERVAL_MS);
  }

  /** Sends everything still waiting; nothing is gathered after it. */
  close(): void {
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const stream of ["stdout", "stderr"] as const) {
      const waiting = this.waiting[stream];
      if (waiting.bytes === 0) continue;
      this.send(stream, Buffer.concat(waiting.chunks, waiting.bytes));
      waiting.chunks = [];
      waiting.bytes = 0;
    }
  }
}
