import { StringDecoder } from "node:string_decoder";
import { OutputStream } from "../gen/meshexec/v1/agent.js";
import { cutToBytes, type OutputBounds } from "./kept-output.js";
import { pieceScrubberOf } from "./scrub-env.js";

export type OutputStreamName = "stdout" | "stderr";

/** Told each piece of live output the caller may see. */
export type LiveOutputSink = (hostname: string, stream: OutputStreamName, data: string) => void;

interface StreamState {
  /** Bytes may end in half a character; the decoder keeps that half for the next piece. */
  decoder: StringDecoder;
  /** Text held back because it may be the start of an env value (see pieceScrubberOf). */
  held: string;
  sentBytes: number;
}

/**
 * One streamed exec's live output, as the router passes it on: the agents' pieces decoded as
 * UTF-8, env values masked as in results (a value split across two pieces included), each host's
 * stream held to the per-host cap and the whole exec to the fan-out total, as kept-output.ts
 * holds results. Only a caller that streams pays for it: nothing else makes one.
 */
export class LiveOutput {
  private readonly hosts = new Map<string, Record<OutputStreamName, StreamState>>();
  private readonly scrub?: (text: string) => { release: string; hold: string };
  private remainingBytes: number;

  constructor(
    private readonly bounds: OutputBounds,
    private readonly sink: LiveOutputSink,
  ) {
    this.scrub = pieceScrubberOf(bounds.env);
    this.remainingBytes = bounds.totalOutputLimitBytes;
  }

  /** A piece as the agent sent it. */
  add(hostname: string, stream: OutputStream, data: Uint8Array): void {
    const name = stream === OutputStream.OUTPUT_STREAM_STDERR ? "stderr" : "stdout";
    const state = this.stateOf(hostname)[name];
    const text = state.held + state.decoder.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (!this.scrub) return this.pass(hostname, name, state, text);
    const { release, hold } = this.scrub(text);
    state.held = hold;
    this.pass(hostname, name, state, release);
  }

  /** The host has answered: what was held back is no secret now, and goes before its result. */
  finish(hostname: string): void {
    const streams = this.hosts.get(hostname);
    if (!streams) return;
    this.hosts.delete(hostname);
    for (const name of ["stdout", "stderr"] as const) {
      const state = streams[name];
      const rest = state.held + state.decoder.end();
      const scrubbed = this.scrub?.(rest);
      this.pass(hostname, name, state, scrubbed ? scrubbed.release + scrubbed.hold : rest);
    }
  }

  private pass(hostname: string, name: OutputStreamName, state: StreamState, text: string): void {
    if (text === "") return;
    const room = Math.min(this.bounds.hostOutputLimitBytes - state.sentBytes, this.remainingBytes);
    const kept = Buffer.byteLength(text) <= room ? text : cutToBytes(text, room);
    if (kept === "") return;
    const bytes = Buffer.byteLength(kept);
    state.sentBytes += bytes;
    this.remainingBytes -= bytes;
    this.sink(hostname, name, kept);
  }

  private stateOf(hostname: string): Record<OutputStreamName, StreamState> {
    let streams = this.hosts.get(hostname);
    if (!streams) {
      const fresh = (): StreamState => ({ decoder: new StringDecoder("utf8"), held: "", sentBytes: 0 });
      streams = { stdout: fresh(), stderr: fresh() };
      this.hosts.set(hostname, streams);
    }
    return streams;
  }
}
