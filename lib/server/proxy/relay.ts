/**
 * The proxy's HTTP half: one admitted request sent through its tunnel's
 * pool and its answer streamed back, within the visitor's fair share of
 * that tunnel and with its body held to a minimum pace.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { Pool } from "undici";
import { sendText } from "../../http/body.ts";
import { endToEndHeaders } from "../../http/headers.ts";
import { clientAddress } from "../../http/client-address.ts";
import type { FairShare } from "./fair-share.ts";
import type { ClientCounters } from "../metrics/metrics.ts";
import { admit, describeTunnelError } from "./admit.ts";
import { pacedBody, stalledReason, type BodyPace } from "./body.ts";
import { buildForwardedHeaders } from "./headers.ts";
import type { ProxyOptions, Route } from "./types.ts";
import { toOriginForm } from "./request-target.ts";

/** What forward() needs besides the request: the proxy's settings and its shared state. */
export interface RelayContext {
  options: ProxyOptions;
  poolFor: (port: number) => Pool;
  shares: FairShare;
  pace: BodyPace;
}

/** Admits the request and relays it through its tunnel, counting it for its client. */
export async function forward(req: IncomingMessage, res: ServerResponse, context: RelayContext): Promise<void> {
  const { options, shares } = context;
  const refused = toOriginForm(req);
  if (refused) return sendText(res, refused.status, `petit: ${refused.reason}`);
  const route = admit(req, options, req.headers.host);
  if ("reason" in route) return sendText(res, route.status, `petit: ${route.reason}`, route.headers);
  const key = `${route.port} ${clientAddress(req, options.trustedProxies)}`;
  const wait = shares.acquire(key);
  if (wait) await wait;
  const counters = options.metrics?.client(route.id);
  try {
    // A request that waited for its share may have been given up on meanwhile.
    if (res.destroyed || req.socket.destroyed) return;
    if (!counters) return await relay(req, res, context, route, undefined);
    counters.requests++;
    counters.active++;
    try {
      await relay(req, res, context, route, counters);
    } finally {
      counters.active--;
    }
  } finally {
    shares.release(key);
  }
}

/** Sends the request through the tunnel and streams the answer back, counting bytes into `counters`. */
async function relay(
  req: IncomingMessage, res: ServerResponse, context: RelayContext, route: Route, counters: ClientCounters | undefined,
): Promise<void> {
  const { options, pace } = context;
  let upstream;
  let stalled = false;
  const abort = hasBody(req) ? new AbortController() : undefined;
  try {
    upstream = await context.poolFor(route.port).request({
      method: req.method as "GET",
      path: req.url ?? "/",
      headers: buildForwardedHeaders(req, options),
      // undici takes async iterables (its docs say so; its types lag behind).
      body: abort && pacedBody(req, pace, counters, () => { stalled = true; abort.abort(); }) as unknown as Readable,
      signal: abort?.signal,
    });
  } catch (error) {
    if (res.headersSent) throw error;
    // Closed after the answer: the rest of the body may still be on its way, and is not read.
    if (stalled) return sendText(res, 408, stalledReason(pace), { connection: "close" });
    if ((error as NodeJS.ErrnoException).code === "UND_ERR_HEADERS_TIMEOUT") {
      const seconds = (options.upstreamTimeoutMs ?? 300_000) / 1000;
      return sendText(res, 504, `petit: tunnel ${route.id} is connected, but the service behind it sent no answer within ${seconds} s (server.upstream_timeout)`);
    }
    return sendText(res, 502, `petit: tunnel ${route.id} ${describeTunnelError(error as NodeJS.ErrnoException)}`);
  }
  // Hop-by-hop headers, and those the service's Connection names, describe its hop only (RFC 9110 §7.6.1).
  const headers = endToEndHeaders(upstream.headers);
  res.writeHead(upstream.statusCode, headers);
  // A body of unknown length (server-sent events, long polls) may idle: send the status now. A sized one goes
  // out with its first chunk in one write.
  if (headers["content-length"] === undefined) res.flushHeaders();
  // Attached in the same tick as the pipeline, so both see every chunk.
  if (counters) upstream.body.on("data", (chunk: Buffer) => void (counters.bytesOut += chunk.length));
  await pipeInto(upstream.body, res);
  // Trailers are known only once the body has ended; they travel with chunked bodies only.
  const trailers = upstream.trailers;
  if (trailers && Object.keys(trailers).length && !res.hasHeader("content-length")) {
    res.addTrailers(trailers as Record<string, string>);
  }
  res.end();
}

/** Pipes `body` into `res` without ending it; resolves at the body's end, rejects when either side fails. */
function pipeInto(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error?: Error) => {
      body.destroy();
      reject(error ?? new Error("visitor went away"));
    };
    body.once("error", fail);
    res.once("close", () => (res.writableFinished ? undefined : fail()));
    body.once("end", resolve);
    body.pipe(res, { end: false });
  });
}

/** Tells whether a request carries a body (RFC 9112 §6.3). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}
