export { continueTrace, traceIdOf, traceLogFields, type TraceContext } from "./trace-context.js";
