/**
 * The proxy's raw half: CONNECT, after whose admission the visitor's socket
 * and the tunnel are piped into each other as bytes, and the refusals of it
 * and of Upgrade, written straight onto the socket.
 * @module
 */
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { clientAddress } from "../../http/client-address.ts";
import { countPipe } from "../metrics/metrics.ts";
import { admit, describeTunnelError } from "./admit.ts";
import { forwardToPeer, oneHopRefusal } from "./forward-to-peer.ts";
import { pipeThroughTunnel, type Forward } from "./pipe.ts";
import type { ProxyOptions, ProxyRequest } from "./types.ts";
import type { Refusal } from "./visitor-auth.ts";

/**
 * CONNECT <id-or-name>.<domain>:<any port>: a raw TCP pipe to the client's
 * service; `head` is what followed the request, `request` the request and
 * what followed, handed as is to the relay holding the tunnel when another
 * does; `forward` starts the visitor's bytes flowing (pipe.ts).
 */
export function connectThroughTunnel(
  req: ProxyRequest, socket: Socket, head: Buffer, options: ProxyOptions, request: Buffer, forward?: Forward,
): void {
  const route = admit(req, options, req.url);
  if ("reason" in route) return refuseRaw(socket, route);
  if (route.peer !== undefined) {
    const refusal = oneHopRefusal(route, socket);
    return refusal ? refuseRaw(socket, refusal) : forwardToPeer(socket, route, request, clientAddress(req, options.trustedProxies), options, forward);
  }
  pipeThroughTunnel(socket, route.port, head, {
    forward,
    onOpen: (tunnel) => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      countPipe(options.metrics, route.id, tunnel);
    },
    onError: (error) => refuseRaw(socket, { status: 502, reason: `tunnel ${route.id} ${describeTunnelError(error)}` }),
  });
}

/** Answers a raw (Upgrade or CONNECT) request with a one-line refusal and closes. */
export function refuseRaw(socket: Duplex, refusal: Refusal): void {
  if (!socket.writable) return void socket.destroy();
  const text = `petit: ${refusal.reason}\n`;
  const extra = Object.entries(refusal.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.end(`HTTP/1.1 ${refusal.status} ${refusal.status === 407 ? "Proxy Authentication Required" : "Refused"}\r\n` +
    `${extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
