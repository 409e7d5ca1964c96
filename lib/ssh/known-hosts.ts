/**
 * petit's own known_hosts: one line pinning the relay's host key under the
 * alias the tunnel's ssh uses.
 * @module
 */
import { RELAY_HOST_KEY_ALIAS } from "../constants.ts";
import { writeFileAtomic } from "../fs-atomic.ts";
import { parsePublicKey } from "./public-key.ts";

/**
 * Writes `hostKey` ("TYPE BASE64 [comment]") as the pinned relay key in
 * `path`, first, followed by `others` (the keys of the relays sharing its
 * store, which the tunnel may move to); nothing else stays pinned.
 */
export function pinHostKey(path: string, hostKey: string, others: string[] = []): void {
  const lines = [hostKey, ...others].map(parsePublicKey).map((key) => `${RELAY_HOST_KEY_ALIAS} ${key.type} ${key.blob}\n`);
  writeFileAtomic(path, [...new Set(lines)].join(""), 0o600);
}
