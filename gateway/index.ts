export { DEFAULT_REQUEST_TIMEOUT_MS, startGateway, type GatewayOptions, type RunningGateway } from "./server.js";
export { createGatewayApp, type GatewayDeps } from "./app.js";
