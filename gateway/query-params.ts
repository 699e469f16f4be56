import { invalidArgument } from "../src/errors/index.js";
import type { EdgeContext } from "./edge-env.js";

/** `?name=true|false|1|0`; absent is false, anything else is a 400 naming the parameter. */
export function booleanQuery(c: EdgeContext, name: string): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === "false" || value === "0") return false;
  if (value === "true" || value === "1" || value === "") return true;
  throw invalidArgument(`invalid ${name}`, `query parameter ${name} must be true or false, got "${value.slice(0, 40)}"`);
}

/** `?name=<whole number>`; absent is 0 (the router's default). */
export function wholeNumberQuery(c: EdgeContext, name: string): number {
  const value = c.req.query(name);
  if (value === undefined || value === "") return 0;
  if (!/^\d{1,9}$/.test(value)) throw invalidArgument(`invalid ${name}`, `query parameter ${name} must be a whole number, got "${value.slice(0, 40)}"`);
  return Number(value);
}
