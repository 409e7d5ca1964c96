/**
 * petit's own known_hosts: one line pinning the relay's host key under the
 * alias the tunnel's ssh uses.
 * @module
 */
import { RELAY_HOST_KEY_ALIAS } from "../constants.ts";
import { writeFileAtomic } from "../fs-atomic.ts";
import { parsePublicKey } from "./public-key.ts";

/** Writes `hostKey` ("TYPE BASE64 [comment]") as the only pinned relay key in `path`. */
export function pinHostKey(path: string, hostKey: string): void {
  const key = parsePublicKey(hostKey);
  writeFileAtomic(path, `${RELAY_HOST_KEY_ALIAS} ${key.type} ${key.blob}\n`, 0o600);
}
