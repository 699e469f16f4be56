import { execLimits } from "../contract/index.js";
import { invalidArgument } from "../errors/mesh-error.js";

/**
 * exec -i: this process's whole standard input, for the command's. Read to the end before
 * anything is sent, and refused past the limit, so a too-large input runs nothing anywhere.
 */
export async function readStdinForExec(input: NodeJS.ReadableStream = process.stdin, limitBytes = execLimits.stdinMaxBytes): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of input) {
    const piece = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    bytes += piece.length;
    if (bytes > limitBytes) {
      throw invalidArgument("stdin too large", `-i sends at most ${limitBytes} bytes of standard input; this one is longer; nothing ran`);
    }
    chunks.push(piece);
  }
  return Buffer.concat(chunks, bytes);
}
