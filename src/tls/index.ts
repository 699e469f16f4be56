export {
  grpcDialCredentials,
  grpcServerCredentials,
  httpsServerOptions,
  plaintextDial,
  type DialCredentials,
  type DialTlsFiles,
  type GrpcServingTlsFiles,
  type ServingTlsFiles,
} from "./tls-credentials.js";
