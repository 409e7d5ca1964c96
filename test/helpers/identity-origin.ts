/**
 * A small HTTP origin that answers every request with `<identity> <url>`, so
 * a test can tell which client's service answered through the relay.
 * @module
 */
import { createServer, type Server } from "node:http";

/** A small origin; `identity` may be changed while it runs. */
export interface IdentityOrigin {
  port: number;
  identity: string;
  close(): Promise<void>;
}

/** Starts an origin that answers every request with `<identity> <url>`. */
export async function startIdentityOrigin(identity = "origin"): Promise<IdentityOrigin> {
  const server: Server = createServer((req, res) => {
    const body = `${origin.identity} ${req.url}`;
    res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin: IdentityOrigin = {
    port: (server.address() as { port: number }).port,
    identity,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  return origin;
}
