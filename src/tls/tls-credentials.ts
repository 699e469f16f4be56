import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { ServerCredentials, credentials, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { invalidArgument } from "../errors/index.js";

/** PEM files a server presents: its certificate chain and key. */
export interface ServingTlsFiles {
  cert?: string;
  key?: string;
}

/** A gRPC server's PEM files; with clientCa, every client must present a certificate that CA signed (mTLS). */
export interface GrpcServingTlsFiles extends ServingTlsFiles {
  clientCa?: string;
}

/** PEM files for dialling a gRPC server over TLS: the CA to trust, and a client certificate for mTLS. */
export interface DialTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  /** The name the server's certificate must carry, when it is not the host dialled (e.g. dialling an IP). */
  serverName?: string;
}

/** How a gRPC client dials: its credentials, and the channel options that go with them. */
export interface DialCredentials {
  credentials: ChannelCredentials;
  options: ChannelOptions;
}

export const plaintextDial: DialCredentials = { credentials: credentials.createInsecure(), options: {} };

/** HTTPS options for node:https, or undefined (plain HTTP) when neither file is given. */
export function httpsServerOptions(files: ServingTlsFiles): { cert: Buffer; key: Buffer } | undefined {
  const pair = readKeyPair(files);
  if (pair) checkUsable(pair);
  return pair;
}

/** Plaintext h2c when no files are given, so a sidecar can terminate (m)TLS in front of us. */
export function grpcServerCredentials(files: GrpcServingTlsFiles): ServerCredentials {
  const pair = readKeyPair(files);
  if (!pair) {
    if (files.clientCa) throw invalidArgument("incomplete TLS settings", "a client CA needs the server's own certificate and key as well");
    return ServerCredentials.createInsecure();
  }
  const clientCa = files.clientCa === undefined ? null : readPem("client CA", files.clientCa);
  checkUsable({ ...pair, ca: clientCa ?? undefined });
  return ServerCredentials.createSsl(clientCa, [{ cert_chain: pair.cert, private_key: pair.key }], clientCa !== null);
}

/** TLS as soon as any file is given (without a CA, the system's roots are trusted); plaintext otherwise. */
export function grpcDialCredentials(files: DialTlsFiles): DialCredentials {
  const pair = readKeyPair(files);
  const ca = files.ca === undefined ? undefined : readPem("CA", files.ca);
  if (!pair && !ca) {
    if (files.serverName)
      throw invalidArgument("incomplete TLS settings", "a TLS server name needs a CA or a client certificate: the link is plaintext without them");
    return plaintextDial;
  }
  checkUsable({ ...pair, ca });
  const options: ChannelOptions = files.serverName ? { "grpc.ssl_target_name_override": files.serverName, "grpc.default_authority": files.serverName } : {};
  return { credentials: credentials.createSsl(ca ?? null, pair?.key ?? null, pair?.cert ?? null), options };
}

function readKeyPair(files: ServingTlsFiles): { cert: Buffer; key: Buffer } | undefined {
  if (files.cert === undefined && files.key === undefined) return undefined;
  if (files.cert === undefined || files.key === undefined) {
    const given = files.cert === undefined ? `key ${files.key}` : `certificate ${files.cert}`;
    throw invalidArgument("incomplete TLS settings", `a TLS certificate and its key go together; only the ${given} was given`);
  }
  return { cert: readPem("certificate", files.cert), key: readPem("private key", files.key) };
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw invalidArgument(`cannot read the TLS ${what}`, `${path}: ${(err as Error).message}`);
  }
}

/** Fails now, naming the problem, rather than on every handshake later: bad PEM, or a key that is not the certificate's. */
function checkUsable(pem: { cert?: Buffer; key?: Buffer; ca?: Buffer }): void {
  try {
    createSecureContext(pem);
  } catch (err) {
    throw invalidArgument("unusable TLS files", (err as Error).message);
  }
}
