/**
 * Writing the registry: registry.json and, when keys changed, authorized_keys,
 * both staged before either is replaced.
 * @module
 */
import { dirname } from "node:path";
import { writeFilesAtomic } from "../../fs-atomic.ts";
import { renderAuthorizedKeys } from "../../ssh/authorized-keys.ts";
import { RegistrationError } from "./checks.ts";
import { liveHolds, type Holds } from "./holds.ts";
import { portsOf, type ClientRecord } from "./records.ts";

/** What registry.json holds, besides its version. */
export interface RegistryState {
  clients: ClientRecord[];
  nextId: number;
  holds: Holds;
}

/**
 * Writes `state` to `paths.file` (and authorized_keys, when `keysChanged`);
 * returns the holds written (the expired ones dropped). A failed write
 * changes nothing; a full disk is a RegistrationError (507), the operator's to fix.
 */
export function writeRegistry(
  paths: { file: string; authorizedKeys: string }, { clients, nextId, holds }: RegistryState, keysChanged: boolean,
): Holds {
  const live = liveHolds(holds);
  const data = { version: 1, next_id: nextId, clients, held: live };
  const files = [{ path: paths.file, data: JSON.stringify(data, null, 2) + "\n" }];
  if (keysChanged) files.push({ path: paths.authorizedKeys, data: authorizedKeysText(clients) });
  try {
    writeFilesAtomic(files);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOSPC" && code !== "EDQUOT") throw error;
    throw new RegistrationError(`the relay cannot save its registry: no space left on the relay's disk (${dirname(paths.file)}); nothing was changed`, 507);
  }
  return live;
}

/** authorized_keys for `clients`: each key may listen on its own ports only. */
export function authorizedKeysText(clients: readonly ClientRecord[]): string {
  return renderAuthorizedKeys(clients.map((c) => ({ id: c.id, key: c.key, ports: portsOf(c) })));
}
