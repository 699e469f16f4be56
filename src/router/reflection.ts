import { join } from "node:path";
import type { Server } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { packageRoot } from "../config/index.js";

/** Every service the router serves, by proto file: reflection describes exactly these. */
const SERVED_PROTO_FILES = ["meshexec/v1/exec.proto", "meshexec/v1/agent.proto", "meshexec/v1/jobs.proto", "meshexec/v1/audit.proto", "meshexec/v1/tokens.proto", "health/v1/health.proto"];

/**
 * Serves gRPC server reflection (v1 and v1alpha), so grpcurl and the like can list and call the
 * router without the proto files. Descriptors come from the same proto/ that src/gen is
 * generated from; google/api from protobufjs, grpc.health.v1 from grpc-health-check.
 */
export function addReflection(server: Server): void {
  const root = packageRoot();
  const includeDirs = ["proto", "node_modules/protobufjs", "node_modules/grpc-health-check/proto"].map((dir) => join(root, dir));
  new ReflectionService(loadSync(SERVED_PROTO_FILES, { includeDirs })).addToServer(server);
}
