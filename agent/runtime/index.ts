export {
  RuntimeFailure,
  type ContainerIdentity,
  type ContainerRuntime,
  type ExecRun,
  type ExecSpec,
  type OutputStreamName,
  type RuntimeFailureReason,
} from "./container-runtime.js";
export { DockerRuntime, type DockerRuntimeOptions } from "./docker-runtime.js";
export { NoopRuntime } from "./noop-runtime.js";
