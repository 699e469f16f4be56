import type { ServerUnaryCall, handleUnaryCall } from "@grpc/grpc-js";
import { GrpcStatus, asMeshError, toStatusObject } from "../errors/index.js";
import type { Logger } from "../log/index.js";

/** Adapts an async handler to grpc-js, turning whatever it throws into the documented status. */
export function unaryHandler<Req, Res>(log: Logger, handle: (call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handle(call).then(
      (response) => callback(null, response),
      (err) => {
        const meshError = asMeshError(err);
        if (meshError.code === GrpcStatus.INTERNAL) log.error({ err, method: call.getPath() }, "handler failed");
        callback(toStatusObject(meshError));
      },
    );
  };
}
