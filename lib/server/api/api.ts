/**
 * The registration ("backchannel") API: a client proves the enrollment token
 * and signs with its private key, sends its public key and gets its ID, port
 * and the relay's SSH details. A registered client may also ask, signed, to
 * free its own port from a stale session of its own (port-release.ts).
 * @module
 */
import type { Server } from "node:http";
import { createWebServer } from "../../http/server.ts";
import type { BlockList } from "node:net";
import type { TlsOptions } from "node:tls";
import { readBody, sendJson } from "../../http/body.ts";
import { clientAddress } from "../../http/client-address.ts";
import { NONCE_LIFETIME_MS, proofTokenId, type NonceSet, type ProofChecker } from "../../proof.ts";
import { PROOF_HEADER, SIGNATURE_HEADER } from "../../constants.ts";
import { verifyKeySignature } from "../../ssh/signature.ts";
import { checkRelease } from "./port-release.ts";
import { RateLimiter } from "../rate-limit.ts";
import { parseRegistration, registrationAnswer, type AnswerContext } from "./registration.ts";
import { RegistrationError, type Registry } from "../registry/registry.ts";
import type { TokenUse } from "../tokens/token-uses.ts";
import type { SignedRelayList } from "../../protocol/relay-list.ts";
import { checkRelayListRequest } from "./relay-list-request.ts";

/** Settings of the registration API. */
export interface ApiOptions extends AnswerContext {
  /** Peers whose X-Forwarded-For names the client (server.trusted_proxies). */
  trustedProxies?: BlockList;
  registry: Registry;
  proof: ProofChecker;
  /** Remembers the nonces of accepted port releases (and, in the relay, of proofs): each request counts once. */
  nonces: NonceSet;
  /**
   * Holds one use of token `tokenId` for a registration in flight (see token-uses.ts); undefined when none is left.
   * Without it, uses are not counted.
   */
  holdTokenUse?: (tokenId: string) => TokenUse | undefined | Promise<TokenUse | undefined>;
  /** Called after a registration that created a client, with the id of the token that allowed it. */
  onEnrolled?: (tokenId: string) => void;
  /** Ends the sessions holding relay port `port` (a release its owner signed); returns their PIDs. */
  releasePort: (port: number) => number[];
  /**
   * Relays sharing a store: records a nonce (already accepted here) in the
   * store; false when another relay accepted it first (a request replayed to
   * another relay). A store that is away answers true: the local check stands.
   */
  claimNonce?: (nonce: string, expiresMs: number) => Promise<boolean>;
  /** Every relay sharing the store, signed with this relay's host key: in each registration answer and at POST /v1/relays. */
  signRelayList?: () => Promise<SignedRelayList>;
  /** Failed proofs one source address may make per minute before it gets 429 (0: no limit). */
  failuresPerMinute?: number;
  /** Serve HTTPS with this key and certificate (PEM), or a certificate per SNI name (ACME); the proxy then speaks HTTPS too. */
  tls?: TlsOptions;
  log: (line: string) => void;
}

const MAX_BODY = 64 * 1024;

/** Creates (but does not start) the registration API server. */
export function createApiServer(options: ApiOptions): Server {
  const limit = options.failuresPerMinute ?? 60;
  // blocked() holds once a source has failed `limit` times: the next request gets 429.
  const failures = new RateLimiter(limit - 1, 60_000);
  const server = createWebServer({ headersTimeout: 10_000, requestTimeout: 15_000 }, options.tls, async (req, res) => {
    // Behind a trusted load balancer the balancer is every request's peer: count failures per real client.
    const source = clientAddress(req, options.trustedProxies);
    try {
      if (limit > 0 && failures.blocked(source)) {
        res.setHeader("retry-after", String(failures.retryAfter(source)));
        return sendJson(res, 429, { error: `too many failed registrations from ${source}; retry later` });
      }
      if (req.method === "GET" && req.url === "/v1/health") return sendJson(res, 200, { ok: true });
      if (req.url !== "/v1/register" && req.url !== "/v1/release" && req.url !== "/v1/relays") {
        return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${req.url}` });
      }
      if (req.method !== "POST") return sendJson(res, 405, { error: `use POST ${req.url}` });
      if (Number(req.headers["content-length"]) > MAX_BODY) {
        // Answer before reading and close: reading past the limit ends in a reset, and the client never sees the 413.
        res.setHeader("connection", "close");
        return sendJson(res, 413, { error: `request body is larger than ${MAX_BODY} bytes` });
      }
      const body = await readBody(req, MAX_BODY);
      const signature = req.headers[SIGNATURE_HEADER] as string | undefined;
      if (req.url === "/v1/relays") {
        await checkRelayListRequest(body, signature, { lookup: (id) => options.registry.lookup(String(id)) });
        if (!options.signRelayList) return sendJson(res, 404, { error: "this relay keeps no relay list" });
        const list = await options.signRelayList().catch((error) => {
          throw new RegistrationError(`the relay list cannot be made now: ${(error as Error).message}`, 503);
        });
        return sendJson(res, 200, { relay_list: list });
      }
      if (req.url === "/v1/release") {
        const { client, port } = await checkRelease(body, signature, { lookup: (id) => options.registry.lookup(String(id)), nonces: options.nonces });
        await claimShared(options, (JSON.parse(body) as { n: string }).n);
        const ended = options.releasePort(port);
        for (const pid of ended) {
          options.log(`stale port: client ${client.id} reconnected while its old session (pid ${pid}) still held port ${port}; ended that session`);
        }
        return sendJson(res, 200, { port, sessions_ended: ended.length });
      }
      const proof = req.headers[PROOF_HEADER] as string | undefined;
      const why = options.proof.check(proof, body);
      if (why) throw new RegistrationError(why, 401);
      // Held now, with no await since the proof was checked (a relay alone holds synchronously; relays sharing a store take the
      // use in one UPDATE): of two registrations at once, only one gets a token's last use.
      const use = options.holdTokenUse ? await options.holdTokenUse(proofTokenId(proof)) : { commit() {}, release() {} };
      if (!use) throw new RegistrationError("unknown, expired, used-up or revoked enrollment token", 401);
      let registered: Awaited<ReturnType<Registry["register"]>>;
      try {
        await claimShared(options, /,n=([0-9a-f]{32}),/.exec(proof!)![1]);
        const { key, name, tunnels } = parseRegistration(body);
        // The enrollment token lets a machine enrol; only the private key's holder may act as that key's client.
        if (!(await verifyKeySignature(key, "register@petit", `${proof}\n${body}`, signature))) {
          throw new RegistrationError(`the registration is not signed with the private key of public_key (header ${SIGNATURE_HEADER}; "petit register" signs it): a public key alone does not make a client`, 401);
        }
        registered = await options.registry.register(key, name, tunnels);
        if (registered.created) use.commit();
      } finally {
        use.release(); // after commit() this does nothing; otherwise the use goes back (refused, failed, or a re-registration)
      }
      const { client, created } = registered;
      if (created) options.onEnrolled?.(proofTokenId(proof));
      options.log(`${created ? "registered" : "re-registered"} client ${client.id} (${client.key.fingerprint}) on port ${client.port}`);
      // Without a list the client keeps the one it has: a registration does not fail for it.
      const relayList = await options.signRelayList?.().catch((error) => void options.log(`relay list: cannot sign it: ${(error as Error).message}`));
      sendJson(res, created ? 201 : 200, registrationAnswer(client, { ...options, relayList: relayList ?? undefined }));
    } catch (error) {
      // A client that hangs up before its body ends is not a relay failure: no 500, no stack trace in the log.
      const status = (error as { status?: number }).status ?? (req.readableAborted ? 400 : 500);
      if (status === 401) {
        options.log(`${req.url === "/v1/register" ? "registration" : req.url === "/v1/release" ? "port release" : "relay list request"} refused from ${source}: ${(error as Error).message}`);
        if (limit > 0) failures.hit(source);
      }
      if (status === 500) options.log(`registration failed: ${(error as Error).stack}`);
      else if (status >= 500) options.log(`registration failed: ${(error as Error).message}`);
      if (!res.headersSent) sendJson(res, status, { error: (error as Error).message });
    }
  });
  server.maxHeadersCount = 64;
  return server;
}

/** Throws the replay refusal when another relay sharing the store accepted `nonce` already. */
async function claimShared(options: ApiOptions, nonce: string): Promise<void> {
  const claimed = options.claimNonce ? await options.claimNonce(nonce, Date.now() + NONCE_LIFETIME_MS).catch(() => true) : true;
  if (!claimed) throw new RegistrationError("this request was already used (replay, through another relay)", 401);
}
