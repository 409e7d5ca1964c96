/**
 * The authorized_keys lines petit writes for its clients. Each line is built
 * from parts petit has validated, never from text a client sent.
 * @module
 */
import { FORCED_COMMAND } from "../constants.ts";
import type { PublicKey } from "./public-key.ts";

/** What one line needs: the client's key, ID and the relay ports it may listen on. */
export interface KeyGrant {
  id: number;
  key: PublicKey;
  ports: number[];
}

/**
 * Returns the authorized_keys line that lets `grant.key` open reverse
 * forwards on 127.0.0.1 at its own ports and nothing else.
 * @example
 * authorizedKeyLine({ id: 1001, key, ports: [11081] })
 * // restrict,port-forwarding,permitlisten="127.0.0.1:11081",command="…" ssh-ed25519 AAAA… petit-1001
 */
export function authorizedKeyLine(grant: KeyGrant): string {
  // One permitlisten per port: a comma list inside one value voids the whole line.
  const listens = grant.ports.map((port) => `permitlisten="127.0.0.1:${port}"`);
  const options = ["restrict", "port-forwarding", ...listens, `command="${FORCED_COMMAND}"`];
  return `${options.join(",")} ${grant.key.type} ${grant.key.blob} petit-${grant.id}`;
}

/** Renders the whole authorized_keys file for `grants`, in ID order. */
export function renderAuthorizedKeys(grants: KeyGrant[]): string {
  const header = "# Managed by petit: rewritten from registry.json on every change. Do not edit.\n";
  return header + [...grants].sort((a, b) => a.id - b.id).map((g) => authorizedKeyLine(g) + "\n").join("");
}
