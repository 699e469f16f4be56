import type { ServerWritableStream, handleServerStreamingCall } from "@grpc/grpc-js";
import { GrpcStatus, asMeshError, toStatusObject } from "../errors/index.js";
import type { Logger } from "../log/index.js";

/** Adapts an async server-streaming handler to grpc-js: it ends the stream, or fails it with the documented status. */
export function serverStreamHandler<Req, Res>(log: Logger, handle: (call: ServerWritableStream<Req, Res>) => Promise<void>): handleServerStreamingCall<Req, Res> {
  return (call) => {
    handle(call).then(
      () => call.end(),
      (err) => {
        const meshError = asMeshError(err);
        if (meshError.code === GrpcStatus.INTERNAL) log.error({ err, method: call.getPath() }, "handler failed");
        call.emit("error", toStatusObject(meshError));
      },
    );
  };
}
