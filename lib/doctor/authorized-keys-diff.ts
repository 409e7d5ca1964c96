/**
 * Does authorized_keys say exactly what the registry says? Every registered
 * client must have exactly its own line, and nothing else may be there: an
 * extra line is a key that can log in without being registered.
 * @module
 */
import { authorizedKeyLine } from "../ssh/authorized-keys.ts";
import type { PublicKey } from "../ssh/public-key.ts";

/** What a client's line is built from. */
export interface RegisteredKey {
  id: number;
  port: number;
  key: PublicKey;
}

/**
 * Returns one sentence per difference between the authorized_keys `text`
 * and the lines petit would write for `clients`; empty when they agree.
 * @example
 * compareAuthorizedKeys([], "ssh-ed25519 AAAA… someone\n")
 * // ['line 1: a key that is not in the registry ("ssh-ed25519 AAAA… someone")']
 */
export function compareAuthorizedKeys(clients: readonly RegisteredKey[], text: string): string[] {
  const expected = new Map(clients.map((c) => [authorizedKeyLine({ id: c.id, key: c.key, ports: [c.port] }), c.id]));
  const seen = new Map<number, number>();
  const differing = new Set<number>();
  const problems: string[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const where = `line ${index + 1}`;
    const id = expected.get(line);
    if (id !== undefined) {
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (seen.get(id) === 2) problems.push(`${where}: client ${id}'s line appears more than once`);
      return;
    }
    const owner = /\spetit-(\d+)$/.exec(line);
    const client = owner ? clients.find((c) => c.id === Number(owner[1])) : undefined;
    if (client) {
      differing.add(client.id);
      problems.push(`${where}: client ${client.id}'s line differs from the registry (its key, port or options were changed)`);
    } else {
      problems.push(`${where}: a key that is not in the registry ("${shorten(line)}")`);
    }
  });
  for (const c of clients) {
    if (!seen.has(c.id) && !differing.has(c.id)) problems.push(`client ${c.id} (port ${c.port}) has no line`);
  }
  return problems;
}

/** Keeps the start and the end of a long key line, which hold the options and the comment. */
function shorten(line: string): string {
  return line.length > 70 ? `${line.slice(0, 30)}…${line.slice(-30)}` : line;
}
