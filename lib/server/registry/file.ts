/**
 * Reading registry.json, refusing anything malformed: a file edited by hand
 * must never put an unchecked key (or a newline) into authorized_keys.
 * @module
 */
import { FIRST_CLIENT_ID } from "../../constants.ts";
import { readFileIfExists } from "../../fs-atomic.ts";
import { parsePublicKey } from "../../ssh/public-key.ts";
import type { ClientRecord } from "./records.ts";
import type { Holds } from "./holds.ts";

/** Reads the registry at `file` (a missing file is an empty registry); throws naming the file and the bad record. */
export function readRegistryFile(file: string): { clients: ClientRecord[]; nextId: number; holds?: Holds } {
  const text = readFileIfExists(file);
  if (text === undefined) return { clients: [], nextId: FIRST_CLIENT_ID };
  try {
    const data = JSON.parse(text) as { clients: ClientRecord[]; next_id?: number; held?: Holds };
    if (!Array.isArray(data.clients)) throw new Error('"clients" is not a list');
    data.clients.forEach(checkRecord);
    if (data.held !== undefined) checkHolds(data.held);
    return { clients: data.clients, nextId: Number.isInteger(data.next_id) ? data.next_id! : FIRST_CLIENT_ID, holds: data.held };
  } catch (error) {
    throw new Error(
      `Cannot read registry "${file}": ${(error as Error).message} (restore it from a backup; petit never writes it partially)`,
      { cause: error },
    );
  }
}

/** Throws unless `record` is a well-formed client. */
export function checkRecord(record: ClientRecord, index: number): void {
  const where = `client #${index + 1}`;
  if (typeof record !== "object" || record === null) throw new Error(`${where} is not an object`);
  if (!Number.isInteger(record.id) || !Number.isInteger(record.port) || record.port < 1 || record.port > 65535) {
    throw new Error(`${where} needs whole-number "id" and "port"`);
  }
  if (record.tunnels !== undefined && (!Array.isArray(record.tunnels) ||
      !record.tunnels.every((t) => Number.isInteger(t?.port) && typeof t.name === "string"))) {
    throw new Error(`${where} has malformed "tunnels"`);
  }
  try {
    const key = parsePublicKey(`${record.key?.type} ${record.key?.blob}`);
    if (key.fingerprint !== record.key.fingerprint) throw new Error("its fingerprint does not match its key");
  } catch (error) {
    throw new Error(`${where} (id ${record.id}) has a bad key: ${(error as Error).message}`);
  }
}


/** Throws unless `held` is a well-formed set of holds ({"ports": {"11001": {id, until}}, "names": {…}}). */
export function checkHolds(held: Holds): void {
  const ok = (map: unknown) => typeof map === "object" && map !== null && !Array.isArray(map) &&
    Object.values(map).every((h) => Number.isInteger(h?.id) && typeof h.until === "string" && !Number.isNaN(Date.parse(h.until)));
  if (typeof held !== "object" || held === null || !ok(held.ports) || !ok(held.names)) {
    throw new Error('"held" must be {"ports": {PORT: {"id": N, "until": ISO time}}, "names": {NAME: {…}}}');
  }
}
