/**
 * The client's record of the relays it may use: the last signed list it
 * accepted (relays.signed), the host keys it pins (known_hosts) and the
 * endpoints it fails over to (`client.relays` in config.toml). All three
 * change together, only after checkRelayList accepted a list.
 * @module
 */
import { readFileIfExists, writeFileAtomic } from "../fs-atomic.ts";
import { parseRelayList, type RelayEntry, type RelayList, type SignedRelayList } from "../protocol/relay-list.ts";
import { pinHostKey } from "../ssh/known-hosts.ts";

/** Where the tunnel's ssh goes: a relay's SSH endpoint. */
export interface Endpoint {
  host: string;
  port: number;
}

/** "host:port", with an IPv6 host in brackets. */
export function endpointText({ host, port }: Endpoint): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * The relays of `list` other than the one registered with (`primary`, with
 * host key `primaryKey`), which config.toml names apart. It is known by its
 * endpoint or by its key: the list may name its host differently.
 */
export function peersOf(list: RelayList, primary: Endpoint, primaryKey: string): RelayEntry[] {
  const key = primaryKey.split(" ").slice(0, 2).join(" ");
  return list.relays.filter((r) => endpointText(r) !== endpointText(primary) && r.host_key !== key);
}

/** Returns the list accepted last (from `path`, written by saveRelayList), or undefined when there is none or it is unreadable. */
export function readAcceptedList(path: string): { signed: SignedRelayList; list: RelayList } | undefined {
  try {
    const text = readFileIfExists(path);
    if (text === undefined) return undefined;
    // petit's own file, but parsed as strictly as when the list arrived.
    const signed = JSON.parse(text) as SignedRelayList;
    return { signed, list: parseRelayList(signed.text) };
  } catch {
    return undefined;
  }
}

/**
 * Keeps an accepted list: saves it to `o.listFile`, pins `o.primaryKey`
 * first and then the other relays' keys in `o.knownHosts`; returns the other
 * relays' endpoints for `client.relays`. Each file is replaced atomically: a
 * running ssh keeps its connection, the next one reads the new keys.
 */
export function saveRelayList(
  o: { listFile: string; knownHosts: string; primary: Endpoint; primaryKey: string }, signed: SignedRelayList, list: RelayList,
): string[] {
  const peers = peersOf(list, o.primary, o.primaryKey);
  writeFileAtomic(o.listFile, `${JSON.stringify({ text: signed.text, signature: signed.signature })}\n`, 0o600);
  pinHostKey(o.knownHosts, o.primaryKey, peers.map((p) => p.host_key));
  return peers.map(endpointText);
}
