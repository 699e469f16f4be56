export { createMetricsRegistry, type Registry } from "./metrics-registry.js";
export { serveMetrics, type RunningMetricsServer } from "./metrics-server.js";
export { grpcServerMetricsInterceptor } from "./grpc-server-metrics.js";
export { RouterMetrics } from "./router-metrics.js";
