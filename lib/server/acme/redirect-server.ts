/**
 * The plain HTTP port when ACME is on: it answers the CA's HTTP-01
 * challenges (before any routing, for any Host) and sends every other
 * request to the same host and path over HTTPS.
 * @module
 */
import { createServer, type Server } from "node:http";
import type { Http01Tokens } from "./challenges.ts";

/** Creates (but does not start) the plain server: challenges, else a 308 to `https://<host>[:httpsPort]<path>`. */
export function createRedirectServer(options: { tokens: Http01Tokens; httpsPort: number }): Server {
  const portSuffix = options.httpsPort === 443 ? "" : `:${options.httpsPort}`;
  return createServer({ headersTimeout: 10_000, requestTimeout: 15_000 }, (req, res) => {
    if (options.tokens.answer(req, res)) return;
    // The visitor's Host header: a DNS name (and port) as a whole, or no redirect at all.
    const match = /^([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::\d{1,5})?$/.exec(req.headers.host ?? "");
    const path = req.url?.startsWith("/") ? req.url : "/";
    if (!match) {
      res.writeHead(400, { "content-type": "text/plain", connection: "close" });
      return res.end("petit: this port redirects to HTTPS and needs a Host header naming the site\n");
    }
    res.writeHead(308, { location: `https://${match[1].toLowerCase()}${portSuffix}${path}`, "content-type": "text/plain" });
    res.end("petit: use HTTPS\n");
  });
}
