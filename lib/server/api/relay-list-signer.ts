/**
 * The relay's side of the signed relay list (protocol/relay-list.ts): this
 * relay and the others active in the store, signed with this relay's SSH
 * host key — the key its clients pin — so a client can tell the list came
 * from a relay it trusts. One signature serves every client until the list
 * changes or a quarter of its lifetime has passed.
 * @module
 */
import { RELAY_LIST_LIFETIME_SECONDS, RELAY_LIST_NAMESPACE } from "../../constants.ts";
import { relayEntryProblem, serializeRelayList, type RelayEntry, type SignedRelayList } from "../../protocol/relay-list.ts";
import { parsePublicKey } from "../../ssh/public-key.ts";
import { signWithKey } from "../../ssh/signature.ts";

/** Returns a relay's own entry: its sshd at `host`:`port`, its API on `apiPort` of the same host, its host key line without the comment. */
export function relayEntryOf(o: { name: string; host: string; port: number; apiPort: number; tls: boolean; hostKey: string }): RelayEntry {
  const key = parsePublicKey(o.hostKey);
  const api = `${o.tls ? "https" : "http"}://${o.host.includes(":") ? `[${o.host}]` : o.host}:${o.apiPort}`;
  return { name: o.name, host: o.host, port: o.port, api, host_key: `${key.type} ${key.blob}` };
}

/** Where the list's parts come from. */
export interface RelayListSource {
  /** This relay's own entry (its host key without a comment). */
  self: () => RelayEntry;
  /** The other relays active in the store now (none without a store). */
  peers: () => Promise<RelayEntry[]>;
  /** This relay's private SSH host key (the one sshd serves). */
  keyFile: string;
  log: (line: string) => void;
}

/** Signs and caches the current relay list. */
export class RelayListSigner {
  #cached: { content: string; issued: number; signed: SignedRelayList } | undefined;
  #pending: Promise<SignedRelayList> | undefined;
  #skipped = new Set<string>();

  constructor(private readonly source: RelayListSource) {}

  /** Returns the current list, signed; concurrent callers share one signing. */
  current(): Promise<SignedRelayList> {
    this.#pending ??= this.#build().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #build(): Promise<SignedRelayList> {
    const self = this.source.self();
    const peers = (await this.source.peers()).filter((peer) => {
      // A relay whose row cannot be listed (e.g. an older petit with no API address in the store) is left out, said once.
      const problem = relayEntryProblem(peer);
      if (problem && !this.#skipped.has(problem)) {
        this.#skipped.add(problem);
        this.source.log(`relay list: leaving out a relay of the store: ${problem}`);
      }
      return !problem && peer.name !== self.name;
    });
    const relays = [self, ...peers];
    const content = JSON.stringify([...relays].sort((a, b) => (a.name < b.name ? -1 : 1)));
    const now = Math.floor(Date.now() / 1000);
    const cached = this.#cached;
    if (cached && cached.content === content && now - cached.issued < RELAY_LIST_LIFETIME_SECONDS / 4) return cached.signed;
    const text = serializeRelayList({ signer: self.name, issued: now, expires: now + RELAY_LIST_LIFETIME_SECONDS, relays });
    const signed = { text, signature: await signWithKey(this.source.keyFile, RELAY_LIST_NAMESPACE, text) };
    this.#cached = { content, issued: now, signed };
    return signed;
  }
}
