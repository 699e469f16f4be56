import { expect } from "chai";
import type { HttpReply } from "./test-stack.js";

/** Asserts the one error shape: JSON `{error, details, code}`, both strings non-empty, code equal to the HTTP status. */
export function expectErrorShape(reply: HttpReply, status: number): { error: string; details: string; code: number } {
  const context = `${reply.status} ${JSON.stringify(reply.body)?.slice(0, 300)}`;
  expect(reply.status, context).to.equal(status);
  expect(reply.headers.get("content-type"), context).to.match(/^application\/json/);
  expect(reply.body, context).to.be.an("object");
  expect(Object.keys(reply.body).sort(), context).to.deep.equal(["code", "details", "error"]);
  expect(reply.body.error, context).to.be.a("string").that.is.not.empty;
  expect(reply.body.details, context).to.be.a("string").that.is.not.empty;
  expect(reply.body.code, context).to.equal(status);
  return reply.body;
}
