/**
 * HTTP Upgrade (WebSocket and others) through a tunnel. The handshake is
 * sent as a parsed HTTP request; only a 101 answer turns the connection into
 * a byte pipe. Any other answer is passed on whole and the connection is
 * closed after it: what the visitor sent after its request never reaches
 * the service unparsed.
 * @module
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { endToEndHeaders } from "../../http/headers.ts";
import { countPipe } from "../metrics/metrics.ts";
import { admit, describeTunnelError } from "./admit.ts";
import { buildForwardedHeaders } from "./headers.ts";
import { joinSockets } from "./pipe.ts";
import { refuseRaw } from "./raw.ts";
import type { ProxyOptions } from "./types.ts";
import { toOriginForm } from "./request-target.ts";

/** Sends the Upgrade request `req` through its tunnel; pipes bytes after a 101, answers and closes after anything else. */
export function upgradeThroughTunnel(req: IncomingMessage, socket: Duplex, head: Buffer, options: ProxyOptions): void {
  const target = toOriginForm(req);
  if (target) return refuseRaw(socket, target);
  // A body would be sent before the service said yes to the upgrade, mixed with what follows it: no such request is passed on.
  if (req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0) {
    return refuseRaw(socket, { status: 400, reason: "an Upgrade request must not carry a body" });
  }
  const route = admit(req, options, req.headers.host);
  if ("reason" in route) return refuseRaw(socket, route);
  const headers = buildForwardedHeaders(req, options, ["upgrade"]);
  headers.connection = "Upgrade";
  const upstream = httpRequest({
    host: "127.0.0.1", port: route.port, method: req.method, path: req.url, headers, agent: false, setHost: false,
  });
  let answered = false;
  upstream.on("upgrade", (res: IncomingMessage, tunnel: Socket, rest: Buffer) => {
    answered = true;
    tunnel.setNoDelay(true);
    socket.write(responseHead(res, endToEndHeaders(res.headers, ["upgrade", "connection"])));
    if (rest.length) socket.write(rest);
    // Bytes the visitor sent after its handshake belong to the new protocol now, and go on only now.
    if (head.length) tunnel.write(head);
    countPipe(options.metrics, route.id, tunnel);
    joinSockets(socket, tunnel);
  });
  upstream.on("response", (res: IncomingMessage) => {
    answered = true;
    const out = endToEndHeaders(res.headers);
    out.connection = "close";
    // The body arrives decoded; without Content-Length it is delimited by the close that follows it.
    socket.write(responseHead(res, out));
    res.pipe(socket);
    res.on("error", () => socket.destroy());
  });
  upstream.on("error", (error: NodeJS.ErrnoException) => {
    if (answered) return void socket.destroy();
    refuseRaw(socket, { status: 502, reason: `tunnel ${route.id} ${describeTunnelError(error)}` });
  });
  socket.on("close", () => upstream.destroy());
  upstream.end();
}

/** Writes a response head with `headers` in place of the service's own. */
function responseHead(res: IncomingMessage, headers: Record<string, string | string[]>): string {
  let text = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ""}\r\n`;
  for (const name in headers) for (const value of [headers[name]].flat()) text += `${name}: ${value}\r\n`;
  return text + "\r\n";
}
