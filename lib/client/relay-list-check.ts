/**
 * The client's check of a signed relay list (protocol/relay-list.ts): it is
 * taken only when the host key the client pins for the relay that sent it
 * signed exactly that text, the signer lists itself with that key, and the
 * list is fresh. Anything else is refused with a reason and changes nothing.
 * @module
 */
import { PROOF_MAX_SKEW_SECONDS, RELAY_LIST_NAMESPACE } from "../constants.ts";
import { MAX_RELAY_LIST_LENGTH, parseRelayList, type RelayList } from "../protocol/relay-list.ts";
import type { PublicKey } from "../ssh/public-key.ts";
import { MAX_SIGNATURE_LENGTH, verifyKeySignature } from "../ssh/signature.ts";

/** A list taken, or why not. */
export type RelayListOutcome = { list: RelayList; refused?: undefined } | { refused: string; list?: undefined };

/** What a list is checked against. */
export interface RelayListCheck {
  /** The host key pinned for the relay that sent the list (at first registration: the one being pinned from the same answer). */
  signerKey: PublicKey;
  /** Seconds since the epoch (default now). */
  now?: number;
  /**
   * The list accepted before: one from the same signer issued earlier is a
   * replay and refused. (Lists of different relays are not compared: their
   * clocks may differ by a few seconds.)
   */
  previous?: RelayList;
}

/**
 * Checks `signed`, as it came from the network (any JSON value), against
 * `o.signerKey`; returns the list or the reason it is refused.
 * @example
 * const outcome = await checkRelayList(answer.relay_list, { signerKey: pinned });
 * if (outcome.refused) log(`relay list refused: ${outcome.refused}`);
 */
export async function checkRelayList(signed: unknown, o: RelayListCheck): Promise<RelayListOutcome> {
  if (typeof signed !== "object" || signed === null) return { refused: "the answer carries no signed relay list" };
  const { text, signature } = signed as { text?: unknown; signature?: unknown };
  if (typeof text !== "string" || typeof signature !== "string") return { refused: "the relay list is not {text, signature} strings" };
  if (text.length > MAX_RELAY_LIST_LENGTH || signature.length > MAX_SIGNATURE_LENGTH) return { refused: "the relay list is too long" };
  // The signature first: until it holds, the text is an outsider's and is not parsed at all.
  if (!(await verifyKeySignature(o.signerKey, RELAY_LIST_NAMESPACE, text, signature))) {
    return { refused: `the relay list is not signed by the relay's pinned host key ${o.signerKey.fingerprint} (forged or altered on the way?)` };
  }
  let list: RelayList;
  try {
    list = parseRelayList(text);
  } catch (error) {
    return { refused: `the signed relay list is malformed: ${(error as Error).message}` };
  }
  const signer = list.relays.find((r) => r.name === list.signer);
  if (signer?.host_key !== `${o.signerKey.type} ${o.signerKey.blob}`) {
    return { refused: `the relay list's signer "${list.signer}" does not list itself with the key that signed it` };
  }
  const now = o.now ?? Math.floor(Date.now() / 1000);
  if (now > list.expires) {
    return { refused: `the relay list expired ${now - list.expires} s ago (an old list replayed, or this machine's clock is wrong)` };
  }
  if (list.issued > now + PROOF_MAX_SKEW_SECONDS) {
    return { refused: `the relay list was issued ${list.issued - now} s in the future (check the clocks; at most ${PROOF_MAX_SKEW_SECONDS} s)` };
  }
  if (o.previous?.signer === list.signer && list.issued < o.previous.issued) {
    return { refused: `the relay list is older than the one accepted before from "${list.signer}" (issued ${list.issued}, already have ${o.previous.issued}): a replay` };
  }
  return { list };
}
