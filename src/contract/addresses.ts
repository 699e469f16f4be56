/** Where the router serves gRPC by default (router and dev --grpc-listen), and so where agents and the edge dial (--router). */
export const DEFAULT_GRPC_ADDRESS = "127.0.0.1:50051";
/** Where the edge serves REST by default (gateway and dev --rest-listen), and so where client commands go (--gateway). */
export const DEFAULT_REST_ADDRESS = "127.0.0.1:8080";
