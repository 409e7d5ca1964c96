/**
 * The proxy's shared types: a tunnel it can reach and its settings. Kept
 * apart from proxy.ts so that its helpers (admit, headers, raw, relay,
 * upgrade) import these without importing the proxy itself.
 * @module
 */
import type { IncomingHttpHeaders } from "node:http";
import type { BlockList, Socket } from "node:net";
import type { TlsOptions } from "node:tls";
import type { ProxyMetrics } from "../metrics/metrics.ts";
import type { Access } from "../registry/records.ts";
import type { RequestHead } from "./http1/request-head.ts";
import type { SignIn } from "./sign-in/sign-in.ts";
import type { TlsAlpnChallengeSource } from "./tls-alpn-accept.ts";
import type { VisitorGate } from "./visitor-auth.ts";

/** A tunnel the proxy can reach. */
export interface Route {
  id: number;
  port: number;
  access: Access;
  /** Another relay holds the tunnel (relays sharing a store): its visitors are forwarded there, one hop (forward-to-peer.ts). */
  peer?: PeerRoute;
}

/** The relay holding a tunnel elsewhere: its name, and the node address (HOST:PORT of its proxy) to forward to. */
export interface PeerRoute {
  node: string;
  address: string;
}

/**
 * A visitor's request as the proxy's decisions and its access log see it:
 * method, target, and the few fields petit reads (lower-case names; the
 * others travel on as the visitor's bytes and are never made into strings).
 */
export interface ProxyRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  socket: Socket;
  /** The bytes and the parsed head, for fields read only when needed (read-request.ts lazyField), while the request is decided on. */
  buf?: Buffer;
  head?: RequestHead;
}

/** Settings of the proxy. */
export interface ProxyOptions {
  domain: string;
  /** Finds the tunnel for a label ("1001" or a name). */
  resolve: (label: string) => Route | undefined;
  gate: VisitorGate;
  /** Browser sign-in: pages under /.petit/ and the sign-in page for browsers instead of 407; none when absent. */
  signIn?: SignIn;
  /** Load balancers whose X-Forwarded-* headers (and PROXY headers) are believed; others' are replaced. */
  trustedProxies?: BlockList;
  /** Connections from `trustedProxies` begin with a PROXY protocol header (v1 or v2) naming the visitor. */
  proxyProtocol?: boolean;
  /** A request body must average this many bytes a second over every `bodyTimeoutMs` (default 240; 0: only none at all is too slow). */
  bodyMinRate?: number;
  /** The window of bodyMinRate: a body slower than that over it gets 408 (default 60 s). */
  bodyTimeoutMs?: number;
  /** Requests one source may have in flight to one tunnel; more wait for their own (default 32 of the pool's 128). */
  requestsPerSource?: number;
  /** Serve HTTPS with this key and certificate (PEM), or a certificate per SNI name (ACME). */
  tls?: TlsOptions;
  /** Pending TLS-ALPN-01 challenges (ACME) the HTTPS port answers before TLS starts (tls-alpn-accept.ts); none when absent. */
  tlsAlpnChallenges?: TlsAlpnChallengeSource;
  /** Connections one source address may hold open at once. */
  maxConnectionsPerSource?: number;
  /** How long a service may take to begin its answer before the visitor gets 504 (default 300 s). */
  upstreamTimeoutMs?: number;
  /**
   * Relays sharing a store: the node secret forwarded connections are signed
   * with, this relay's name, and what to do when a holder cannot be reached
   * (read presence again: the tunnel may have just moved, even here).
   */
  peering?: { secret: string; self: string; onUnreachable?: () => void };
  /** Counters to bump (requests, bytes, refusals); none when absent. */
  metrics?: ProxyMetrics;
  /** Called once per answered request (the access log); none when absent. */
  onAnswered?: (req: ProxyRequest, status: number, ms: number) => void;
  log: (line: string) => void;
}
