import { parseHostPort } from "../config/index.js";
import { startGateway } from "../../gateway/index.js";
import { createLogger } from "../log/index.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { jwtFlags, verifierOf } from "./shared-flags.js";

export const gatewayCommand = defineCommand({
  summary: "Serves the REST API and transcodes each call to one gRPC call on the router.",
  usage: "--listen HOST:PORT --router HOST:PORT --jwt-secret SECRET",
  flags: {
    listen: { type: "string", default: "127.0.0.1:8080", description: "HTTP address to listen on (port 0: any free port)" },
    router: { type: "string", default: "127.0.0.1:50051", description: "the router's gRPC address" },
    ...jwtFlags,
  },
  async run(flags) {
    const { host, port } = parseHostPort("listen", flags.listen);
    parseHostPort("router", flags.router);
    const gateway = await startGateway({ host, port, router: flags.router, verifier: verifierOf(flags), log: createLogger("gateway") });
    stopOnSignals(() => gateway.stop(10_000));
  },
});
