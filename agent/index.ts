export { Agent, type AgentOptions } from "./agent.js";
export { DockerRuntime, NoopRuntime, RuntimeFailure, type ContainerRuntime, type ExecRun, type ExecSpec } from "./runtime/index.js";
