import type { ServerUnaryCall, ServerWritableStream, StatusObject, handleServerStreamingCall, handleUnaryCall } from "@grpc/grpc-js";
import { GrpcStatus, asMeshError, toStatusObject } from "../errors/index.js";
import type { Logger } from "../log/index.js";

/** Adapts an async unary handler to grpc-js. */
export function unaryHandler<Req, Res>(log: Logger, handle: (call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handle(call).then(
      (response) => callback(null, response),
      (err) => callback(failureStatus(log, call.getPath(), err)),
    );
  };
}

/** Adapts an async server-streaming handler to grpc-js: it ends the stream when the handler is done. */
export function serverStreamHandler<Req, Res>(
  log: Logger,
  handle: (call: ServerWritableStream<Req, Res>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    handle(call).then(
      () => call.end(),
      (err) => call.emit("error", failureStatus(log, call.getPath(), err)),
    );
  };
}

/** Whatever a handler threw, as the documented status; anything unexpected is logged as a bug. */
function failureStatus(log: Logger, method: string, err: unknown): Partial<StatusObject> {
  const meshError = asMeshError(err);
  if (meshError.code === GrpcStatus.INTERNAL) log.error({ err, method }, "handler failed");
  return toStatusObject(meshError);
}
