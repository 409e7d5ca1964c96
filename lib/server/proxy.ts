/**
 * The Host-header HTTP proxy: `<id>.<domain>` or `<name>.<domain>` goes to
 * 127.0.0.1:<port>, the relay end of that client's tunnel. Bodies stream both
 * ways; connections to tunnels are pooled and kept alive, because each new
 * connection costs a new SSH channel.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { Pool } from "undici";
import { sendText } from "../http/body.ts";
import { labelFromHost } from "./route.ts";

/** Settings of the proxy. */
export interface ProxyOptions {
  domain: string;
  /** Finds the tunnel port for a label ("1001" or a name). */
  resolve: (label: string) => { id: number; port: number } | undefined;
  log: (line: string) => void;
}

// RFC 9110 §7.6.1: these describe one hop and are not forwarded.
const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
  "te", "trailer", "transfer-encoding", "upgrade", "expect",
]);

/** Creates (but does not start) the proxy server. Call `close()` on the result's pools when done. */
export function createProxyServer(options: ProxyOptions): Server & { closePools(): Promise<void> } {
  const pools = new Map<number, Pool>();
  const poolFor = (port: number): Pool => {
    let pool = pools.get(port);
    if (!pool) {
      pool = new Pool(`http://127.0.0.1:${port}`, {
        connections: 128,
        keepAliveTimeout: 4_000,
        headersTimeout: 300_000,
        bodyTimeout: 0, // long-polling and server-sent events may idle for long
      });
      pools.set(port, pool);
    }
    return pool;
  };

  const server = createServer({ headersTimeout: 30_000, requestTimeout: 0, keepAliveTimeout: 60_000 }, (req, res) => {
    forward(req, res, options, poolFor).catch((error) => {
      options.log(`proxy: ${req.headers.host} ${req.method} ${req.url}: ${(error as Error).message}`);
      res.destroy();
    });
  });
  server.maxHeadersCount = 100;
  return Object.assign(server, {
    async closePools() {
      await Promise.all([...pools.values()].map((p) => p.destroy()));
      pools.clear();
    },
  });
}

async function forward(
  req: IncomingMessage, res: ServerResponse, options: ProxyOptions, poolFor: (port: number) => Pool,
): Promise<void> {
  const label = labelFromHost(req.headers.host, options.domain);
  const route = label === undefined ? undefined : options.resolve(label);
  if (!route) {
    return sendText(res, 404, `petit: no tunnel for host "${(req.headers.host ?? "").slice(0, 200)}" on this relay`);
  }
  let upstream;
  try {
    upstream = await poolFor(route.port).request({
      method: req.method as "GET",
      path: req.url ?? "/",
      headers: forwardHeaders(req),
      body: hasBody(req) ? req : undefined,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (res.headersSent) throw error;
    const why = code === "ECONNREFUSED" ? "is not connected" : `failed (${code ?? (error as Error).message})`;
    return sendText(res, 502, `petit: tunnel ${route.id} ${why}`);
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  res.writeHead(upstream.statusCode, headers);
  await pipeline(upstream.body, res);
}

/** Tells whether a request carries a body (RFC 9112 §6.3). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/** The request headers sent on to the tunnel: hop-by-hop ones dropped, X-Forwarded-* set. */
function forwardHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const drop = new Set(HOP_BY_HOP);
  for (const token of String(req.headers.connection ?? "").split(",")) drop.add(token.trim().toLowerCase());
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !drop.has(name)) headers[name] = value;
  }
  const prior = req.headers["x-forwarded-for"];
  const client = req.socket.remoteAddress ?? "";
  headers["x-forwarded-for"] = prior ? `${prior}, ${client}` : client;
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-host"] = req.headers.host ?? "";
  return headers;
}
