export { Agent, type AgentOptions } from "./agent.js";
export { DEFAULT_MAX_IN_FLIGHT_EXECS, DEFAULT_MAX_QUEUED_EXECS } from "./exec-slots.js";
export { DockerRuntime, NoopRuntime, RuntimeFailure, type ContainerRuntime, type ExecRun, type ExecSpec } from "./runtime/index.js";
