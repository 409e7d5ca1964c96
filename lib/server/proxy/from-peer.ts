/**
 * The holder's half of one-hop forwarding: a connection that starts with a
 * signed line from another relay (peer-preamble.ts) is that relay's
 * visitor, named in the line. Only the first bytes of a connection may be
 * such a line, and only with the store's node secret; anything else fails
 * as the malformed request it is.
 * @module
 */
import type { Socket } from "node:net";
import { setProxiedSource } from "../../http/client-address.ts";
import { recountSource } from "./connection-limit.ts";
import { forwardedFrom } from "./forward-to-peer.ts";
import { NonceMemory, verifyPreamble } from "./peer-preamble.ts";
import type { ProxyOptions } from "./types.ts";
import type { Refusal } from "./visitor-auth.ts";

/** Lines accepted by this process, so each is good once (relays sign a fresh nonce per connection). */
const seen = new NonceMemory();

/**
 * Looks at the first bytes `buf` of `socket`, which the head parser refused:
 * undefined when they are no relay's line (the parser's refusal stands), 0
 * when the line is not whole yet, a refusal, or the line's length once it is
 * accepted. From then on the connection's source is the visitor the line
 * names (allow_from, lockouts, shares, X-Forwarded-For, the access log).
 */
export function acceptFromPeer(buf: Buffer, socket: Socket, options: ProxyOptions): number | Refusal | undefined {
  if (!options.peering) return undefined;
  const line = verifyPreamble(buf, options.peering.secret, seen);
  if (line === undefined) return undefined;
  if (line === "more") return 0;
  if ("refused" in line) {
    options.log(`proxy: refused a connection from ${socket.remoteAddress} claiming to be a relay: ${line.refused}`);
    return { status: 403, reason: `refused a relay-to-relay connection: ${line.refused}` };
  }
  setProxiedSource(socket, line.visitor);
  forwardedFrom.set(socket, line.from);
  // The forwarding relay carries many visitors: each counts against its own connection limit, not the relay's.
  if (!recountSource(socket, line.visitor)) return { status: 429, reason: `visitor ${line.visitor} holds too many connections to this relay` };
  return line.length;
}
