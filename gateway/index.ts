export { startGateway, type GatewayOptions, type RunningGateway } from "./server.js";
export { createGatewayApp, type GatewayDeps } from "./app.js";
export { READY_WHEN, type ReadyWhen } from "./routes/health.js";
