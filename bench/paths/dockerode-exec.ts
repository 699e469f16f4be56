import { once } from "node:events";
import { Writable } from "node:stream";
import Docker from "dockerode";
import { BENCH_COMMAND, checkRan, type ExecPath } from "./exec-path.js";

/**
 * (a) The floor: the least a Node program must do to run a command through the engine's API
 * (create, start, demultiplex, inspect), with nothing of meshexec in between.
 */
export function dockerodeExec(): ExecPath {
  const docker = new Docker();
  return {
    id: "a",
    label: "dockerode exec (floor)",
    async exec(container) {
      const exec = await docker.getContainer(container).exec({ Cmd: BENCH_COMMAND, AttachStdout: true, AttachStderr: true, Tty: false });
      const stream = await exec.start({ hijack: true, stdin: false });
      const stdout = collector();
      docker.modem.demuxStream(stream, stdout.sink, collector().sink);
      await Promise.race([once(stream, "end"), once(stream, "close")]);
      const info = await exec.inspect();
      checkRan("dockerode", stdout.text(), info.ExitCode);
      return undefined;
    },
    close() {},
  };
}

function collector(): { sink: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString("utf8") };
}
