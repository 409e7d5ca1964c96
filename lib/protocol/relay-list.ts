/**
 * The signed relay list: every relay sharing a store, with the SSH endpoint,
 * host key and API address of each, signed by the relay that sends it with
 * its SSH host key (`ssh-keygen -Y sign -n petit-relays`). A client takes a
 * list only when the key it already pins for that relay signed it, so nobody
 * on the path of a plain-HTTP answer can add a relay of their own.
 *
 * The signed text is this canonical form, one field per line, relays sorted
 * by name, each field checked against a strict pattern before signing:
 *
 * ```
 * petit-relays 1
 * signer relay-a.example.com:80
 * issued 1765000000
 * expires 1765000600
 * relay relay-a.example.com:80 10.0.0.2 22 http://10.0.0.2:3014 ssh-ed25519 AAAAC3…
 * relay relay-b.example.com:80 10.0.0.3 22 http://10.0.0.3:3014 ssh-ed25519 AAAAC3…
 * ```
 * @module
 */
import { parsePublicKey } from "../ssh/public-key.ts";

/** One relay in a list: where clients reach its sshd and its API, and the host key they pin. */
export interface RelayEntry {
  /** The relay's name in the store (its node address). */
  name: string;
  host: string;
  port: number;
  /** The relay's registration API ("http://HOST:PORT"), where a client on it asks for the current list. */
  api: string;
  /** "TYPE BASE64". */
  host_key: string;
}

/** A relay list before signing, or after verifying. */
export interface RelayList {
  /** Name of the relay that signed it (one of `relays`). */
  signer: string;
  /** Seconds since the epoch. */
  issued: number;
  expires: number;
  relays: RelayEntry[];
}

/** What travels in the registration answer and the `POST /v1/relays` answer. */
export interface SignedRelayList {
  /** The canonical text (serializeRelayList), exactly as signed. */
  text: string;
  /** The armored SSHSIG, base64 on one line (as ssh/signature.ts makes it). */
  signature: string;
}

/** The longest list text a client reads (about 100 relays). */
export const MAX_RELAY_LIST_LENGTH = 64 * 1024;

const HEADER = "petit-relays 1";
const NAME = /^[A-Za-z0-9._:\[\]-]{1,255}$/;
const HOST = /^[A-Za-z0-9._:-]{1,255}$/;
const API = /^https?:\/\/[A-Za-z0-9._:\[\]-]{1,255}$/;
const SECONDS = /^[0-9]{1,12}$/;

/** Returns why `entry` cannot be listed (a field outside its pattern), or undefined when it can. */
export function relayEntryProblem(entry: RelayEntry): string | undefined {
  if (!NAME.test(entry.name)) return `relay name ${JSON.stringify(entry.name.slice(0, 80))} is not a host name or HOST:PORT`;
  if (!HOST.test(entry.host)) return `relay "${entry.name}": ssh host ${JSON.stringify(entry.host.slice(0, 80))} is not a host name or address`;
  if (!Number.isInteger(entry.port) || entry.port < 1 || entry.port > 65535) return `relay "${entry.name}": ssh port ${entry.port} is not 1-65535`;
  if (!API.test(entry.api)) return `relay "${entry.name}": API address ${JSON.stringify(entry.api.slice(0, 80))} is not http(s)://HOST:PORT`;
  try {
    const key = parsePublicKey(entry.host_key);
    if (`${key.type} ${key.blob}` !== entry.host_key) return `relay "${entry.name}": host key must be "TYPE BASE64" without a comment`;
  } catch (error) {
    return `relay "${entry.name}": host key: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * Returns the canonical text of `list`: the bytes a relay signs. Relays are
 * sorted by name; throws when a field is outside its pattern or the signer is
 * not listed, so nothing ambiguous is ever signed.
 * @example serializeRelayList({ signer: "a", issued: 1, expires: 601, relays: [a] }).startsWith("petit-relays 1\n")
 */
export function serializeRelayList(list: RelayList): string {
  const relays = [...list.relays].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of relays) {
    const problem = relayEntryProblem(entry);
    if (problem) throw new Error(`Cannot sign the relay list: ${problem}`);
  }
  if (new Set(relays.map((r) => r.name)).size !== relays.length) throw new Error("Cannot sign the relay list: a relay name appears twice");
  if (!relays.some((r) => r.name === list.signer)) throw new Error(`Cannot sign the relay list: the signer "${list.signer}" is not in it`);
  if (!Number.isInteger(list.issued) || !Number.isInteger(list.expires) || list.issued < 0 || list.expires <= list.issued) {
    throw new Error(`Cannot sign the relay list: issued ${list.issued} and expires ${list.expires} are not whole seconds in order`);
  }
  return [
    HEADER, `signer ${list.signer}`, `issued ${list.issued}`, `expires ${list.expires}`,
    ...relays.map((r) => `relay ${r.name} ${r.host} ${r.port} ${r.api} ${r.host_key}`),
  ].join("\n") + "\n";
}

/**
 * Parses a list's canonical text, anchored and whole: the text comes from
 * the network (a relay's answer), so anything that is not exactly what
 * serializeRelayList writes is refused, with the reason. Call it only on
 * text whose signature was verified.
 */
export function parseRelayList(text: string): RelayList {
  if (text.length > MAX_RELAY_LIST_LENGTH) throw new Error(`the list is longer than ${MAX_RELAY_LIST_LENGTH} characters`);
  if (!text.endsWith("\n")) throw new Error("the list does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines[0] !== HEADER) throw new Error(`the list does not start with "${HEADER}"`);
  const field = (i: number, key: string, pattern: RegExp) => {
    const line = lines[i] ?? "";
    const value = line.startsWith(`${key} `) ? line.slice(key.length + 1) : undefined;
    if (value === undefined || !pattern.test(value)) throw new Error(`line ${i + 1} is not "${key} …"`);
    return value;
  };
  const list: RelayList = {
    signer: field(1, "signer", NAME), issued: Number(field(2, "issued", SECONDS)), expires: Number(field(3, "expires", SECONDS)), relays: [],
  };
  for (let i = 4; i < lines.length; i++) {
    const parts = field(i, "relay", /^[^ ]+ [^ ]+ [0-9]{1,5} [^ ]+ [^ ]+ [^ ]+$/).split(" ");
    const entry: RelayEntry = { name: parts[0], host: parts[1], port: Number(parts[2]), api: parts[3], host_key: `${parts[4]} ${parts[5]}` };
    const problem = relayEntryProblem(entry);
    if (problem) throw new Error(`line ${i + 1}: ${problem}`);
    list.relays.push(entry);
  }
  // The same rules as for signing, and the exact same bytes back: one list, one text.
  let canonical: string;
  try {
    canonical = serializeRelayList(list);
  } catch (error) {
    throw new Error((error as Error).message.replace(/^Cannot sign the relay list: /, ""));
  }
  if (canonical !== text) throw new Error("the list is not in canonical form (relays sorted by name, each once)");
  return list;
}
