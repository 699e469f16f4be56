import type { ServerCredentials } from "@grpc/grpc-js";
import type { FlagValues } from "../config/index.js";
import { grpcDialCredentials, grpcServerCredentials, httpsServerOptions, type DialCredentials } from "../tls/index.js";

/** What the router's gRPC and the edge's HTTP serve with; plaintext when unset, for a sidecar that terminates TLS. */
export const servingTlsFlags = {
  "tls-cert": { type: "string", description: "PEM certificate chain to serve TLS with, together with --tls-key (default: plaintext)" },
  "tls-key": { type: "string", description: "PEM private key of --tls-cert" },
} as const;

export const clientCaFlag = {
  "tls-client-ca": {
    type: "string",
    description: "PEM CA certificates; when set, every caller and agent must present a client certificate one of them signed (mTLS)",
  },
} as const;

type RouterDialPrefix = "" | "router-";
type RouterDialTlsFlags<P extends RouterDialPrefix> = {
  readonly [K in `${P}tls-ca` | `${P}tls-cert` | `${P}tls-key` | `${P}tls-server-name`]: { readonly type: "string"; readonly description: string };
};

/** How a command dials the router: the agent's flags are --tls-*, the edge's --router-tls-* (its own --tls-* are for HTTPS). */
export function routerDialTlsFlags<P extends RouterDialPrefix>(prefix: P): RouterDialTlsFlags<P> {
  const flag = (description: string) => ({ type: "string", description }) as const;
  return {
    [`${prefix}tls-ca`]: flag(
      "PEM CA certificates to verify the router's certificate with; with a CA or a client certificate the link is TLS (default: plaintext h2c)",
    ),
    [`${prefix}tls-cert`]: flag(`PEM client certificate for a router that requires one (mTLS), together with --${prefix}tls-key`),
    [`${prefix}tls-key`]: flag(`PEM private key of --${prefix}tls-cert`),
    [`${prefix}tls-server-name`]: flag("the name the router's certificate must carry, when it is not the host in the router's address"),
  } as RouterDialTlsFlags<P>;
}

export function routerDialCredentialsOf<P extends RouterDialPrefix>(prefix: P, flags: FlagValues<RouterDialTlsFlags<P>>): DialCredentials {
  return grpcDialCredentials({
    ca: flags[`${prefix}tls-ca`],
    cert: flags[`${prefix}tls-cert`],
    key: flags[`${prefix}tls-key`],
    serverName: flags[`${prefix}tls-server-name`],
  });
}

export function grpcServerCredentialsOf(flags: FlagValues<typeof servingTlsFlags & typeof clientCaFlag>): ServerCredentials {
  return grpcServerCredentials({ cert: flags["tls-cert"], key: flags["tls-key"], clientCa: flags["tls-client-ca"] });
}

export function httpsOptionsOf(flags: FlagValues<typeof servingTlsFlags>): ReturnType<typeof httpsServerOptions> {
  return httpsServerOptions({ cert: flags["tls-cert"], key: flags["tls-key"] });
}
