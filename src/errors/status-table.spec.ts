import { expect } from "chai";
import { GrpcStatus, httpStatusOf } from "./index.js";

describe("gRPC → HTTP status table", () => {
  it("maps every status the API documents", () => {
    const expected: Array<[GrpcStatus, number]> = [
      [GrpcStatus.INVALID_ARGUMENT, 400],
      [GrpcStatus.UNAUTHENTICATED, 401],
      [GrpcStatus.PERMISSION_DENIED, 403],
      [GrpcStatus.NOT_FOUND, 404],
      [GrpcStatus.ALREADY_EXISTS, 409],
      [GrpcStatus.FAILED_PRECONDITION, 409],
      [GrpcStatus.RESOURCE_EXHAUSTED, 429],
      [GrpcStatus.CANCELLED, 499],
      [GrpcStatus.UNAVAILABLE, 503],
      [GrpcStatus.DEADLINE_EXCEEDED, 504],
      [GrpcStatus.INTERNAL, 500],
      [GrpcStatus.UNKNOWN, 500],
    ];
    expected.forEach(([grpc, http]) => expect(httpStatusOf(grpc), GrpcStatus[grpc]).to.equal(http));
  });
});
