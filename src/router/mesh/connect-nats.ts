import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { GrpcStatus, MeshError } from "../../errors/index.js";

/** How a router reaches NATS, from --nats, --nats-creds, --nats-token, --nats-user/--nats-password and --nats-tls-ca. */
export interface NatsOptions {
  servers: string[];
  credsFile?: string;
  token?: string;
  user?: string;
  password?: string;
  tlsCaFile?: string;
}

/**
 * How soon a silent NATS server is noticed: a ping every 2 s, and the connection counted lost
 * after two unanswered. The fleet view is then untrusted until the client reconnects (it keeps
 * trying, every half second, for as long as the router runs).
 */
const PING_INTERVAL_MS = 2_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects the router to NATS, or refuses to start naming the servers it could not reach (the
 * servers' addresses only: credentials are never part of a message).
 */
export async function connectNats(routerName: string, options: NatsOptions): Promise<NatsConnection> {
  const connection: NodeConnectionOptions = {
    servers: options.servers,
    name: `meshexec-router-${routerName}`,
    timeout: CONNECT_TIMEOUT_MS,
    pingInterval: PING_INTERVAL_MS,
    maxPingOut: 2,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  };
  if (options.credsFile) connection.authenticator = credsAuthenticator(readFileSync(options.credsFile));
  if (options.token) connection.token = options.token;
  if (options.user) Object.assign(connection, { user: options.user, pass: options.password });
  if (options.tlsCaFile) connection.tls = { caFile: options.tlsCaFile };
  try {
    return await connect(connection);
  } catch (err) {
    throw new MeshError(
      GrpcStatus.UNAVAILABLE,
      "NATS unreachable",
      `could not connect to NATS at ${options.servers.map(redactUrl).join(", ")} (--nats): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** A server address as it may be shown: without a password or token in it. */
export function redactUrl(server: string): string {
  return server.replace(/\/\/[^@/]*@/, "//***@");
}
