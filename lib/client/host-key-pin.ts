/**
 * Keeping the relay's pinned SSH host key across registrations. The key
 * arrives in the registration answer, which nothing else vouches for: once a
 * key is pinned, a different one is taken only with `--fingerprint` naming it,
 * so someone on the path cannot swap it by answering a later `petit register`.
 * @module
 */
import { RELAY_HOST_KEY_ALIAS } from "../constants.ts";
import { readFileIfExists } from "../fs-atomic.ts";
import { parsePublicKey, type PublicKey } from "../ssh/public-key.ts";

/** Returns the relay key pinned in `knownHosts` (petit's own file), or undefined when none is. */
export function pinnedHostKey(knownHosts: string): PublicKey | "unreadable" | undefined {
  const text = readFileIfExists(knownHosts);
  // petit's own file: one line "petit-relay TYPE BASE64" (see ssh/known-hosts.ts).
  const line = text?.split("\n").find((l) => l.startsWith(`${RELAY_HOST_KEY_ALIAS} `));
  if (line === undefined) return undefined;
  try {
    return parsePublicKey(line.slice(RELAY_HOST_KEY_ALIAS.length + 1));
  } catch {
    return "unreadable";
  }
}

/** Returns the other relays' keys pinned in `knownHosts` ("TYPE BASE64", every line after the first), kept when a relay list is refused. */
export function pinnedPeerKeys(knownHosts: string): string[] {
  const lines = (readFileIfExists(knownHosts) ?? "").split("\n").filter((l) => l.startsWith(`${RELAY_HOST_KEY_ALIAS} `));
  return lines.slice(1).map((l) => l.slice(RELAY_HOST_KEY_ALIAS.length + 1));
}

/**
 * Returns why `offered` may not replace the key pinned in `knownHosts`, or
 * undefined when it may: nothing pinned yet, the same key, or `fingerprint`
 * (from --fingerprint, checked against `offered` before) vouches for it.
 * @example
 * const refusal = hostKeyChange({ knownHosts, offered, fingerprint: undefined, relay: "http://relay:3014" });
 * if (refusal) throw new UsageError(refusal);
 */
export function hostKeyChange(
  o: { knownHosts: string; offered: PublicKey; fingerprint: string | undefined; relay: string },
): string | undefined {
  const pinned = pinnedHostKey(o.knownHosts);
  if (pinned === undefined || o.fingerprint) return undefined;
  if (pinned !== "unreadable" && pinned.type === o.offered.type && pinned.blob === o.offered.blob) return undefined;
  const old = pinned === "unreadable" ? `an unreadable key` : pinned.fingerprint;
  return `The relay's SSH host key changed: "${o.knownHosts}" pins ${old}, but ${o.relay} now presents ${o.offered.fingerprint}. ` +
    "Refusing to pin the new key: nothing vouches for the registration answer, so someone between this machine and the relay " +
    "may have swapped it. If the relay's operator replaced the key, check the new fingerprint with them (petit server up prints it) " +
    `and run this command again with --fingerprint ${o.offered.fingerprint}. Nothing was saved.`;
}
