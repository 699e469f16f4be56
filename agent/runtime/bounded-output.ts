import { Writable } from "node:stream";

/**
 * Collects a stream's bytes up to a cap and throws the rest away while still reading it, so a
 * chatty command can neither fill memory nor stall on a full pipe.
 */
export class BoundedOutput extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  /** `onKept` is told each piece as it is kept, for output streamed live: what the cap drops is never told. */
  constructor(
    private readonly limitBytes: number,
    private readonly onKept?: (chunk: Buffer) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    const room = this.limitBytes - this.kept;
    if (chunk.length > room) this.truncated = true;
    if (room > 0) {
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(kept);
      this.kept += kept.length;
      this.onKept?.(kept);
    }
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks, this.kept).toString("utf8");
  }
}
