import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { expect } from "chai";
import { asMeshError, fromServiceError, listenErrorOf, toStatusObject } from "./index.js";
import { MeshError } from "./mesh-error.js";

function serviceError(code: status, details: string, metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

describe("mapped errors keep what they map as their cause", () => {
  it("asMeshError: an unexpected error becomes INTERNAL with the error itself as cause", () => {
    const bug = new TypeError("cannot read properties of undefined");
    const mapped = asMeshError(bug);
    expect(mapped).to.include({ code: status.INTERNAL, error: "internal error" });
    expect(mapped.cause).to.equal(bug);
  });

  it("fromServiceError: a transport failure and a router's own error both keep grpc-js's error", () => {
    const unreachable = serviceError(status.UNAVAILABLE, "No connection established");
    expect(fromServiceError(unreachable).cause).to.equal(unreachable);
    const routerSaid = serviceError(status.NOT_FOUND, "x", toStatusObject(new MeshError(status.NOT_FOUND, "no such job", "job 1")).metadata);
    expect(fromServiceError(routerSaid)).to.include({ error: "no such job", details: "job 1" });
    expect(fromServiceError(routerSaid).cause).to.equal(routerSaid);
  });

  it("listenErrorOf: says why in words and keeps the system error", () => {
    const busy = Object.assign(new Error("listen EADDRINUSE: address already in use 127.0.0.1:80"), { code: "EADDRINUSE" });
    expect(listenErrorOf("127.0.0.1:80", busy)).to.include({ address: "127.0.0.1:80", reason: "the address is already in use", cause: busy });
    const fromGrpc = new Error("No address added out of total 1 resolved errors: [listen EADDRNOTAVAIL: address not available 10.0.0.9]");
    expect(listenErrorOf("10.0.0.9:1", fromGrpc).reason).to.equal("the address is not one of this host's");
  });
});
