import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";

/** A port nothing listens on now, for a server (nginx, PostgreSQL) that cannot bind port 0 and report it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
