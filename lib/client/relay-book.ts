/**
 * The relays the tunnel may use, in the client daemon: the one registered
 * with first, then the others of the last accepted relay list. After each
 * connect it asks the relay in use for the current list (relay-refresh.ts);
 * an accepted list that differs replaces the failover targets and the pinned
 * keys at once, without touching the ssh that runs.
 * @module
 */
import type { ClientConfig } from "../config/schema.ts";
import { parseHostPort } from "../config/values.ts";
import type { ClientPaths } from "../paths.ts";
import { parsePublicKey, type PublicKey } from "../ssh/public-key.ts";
import { pinnedHostKey } from "./host-key-pin.ts";
import { fetchRelayList } from "./relay-refresh.ts";
import { endpointText, readAcceptedList, saveRelayList, type Endpoint } from "./relay-state.ts";

/** What the book needs from the daemon. */
export interface RelayBookOptions {
  config: () => ClientConfig;
  paths: ClientPaths;
  /** Called with the new `client.relays` after an accepted list changed them (the daemon saves config.toml). */
  onRelays: (relays: string[]) => void;
  log: (line: string) => void;
}

/** The relays the tunnel may use, and which one it uses now. */
export class RelayBook {
  endpoints: Endpoint[];
  current = 0;
  #refreshing: Promise<void> | undefined;

  constructor(private readonly o: RelayBookOptions) {
    const config = o.config();
    this.endpoints = [{ host: config.ssh_host, port: config.ssh_port }, ...config.relays.map((r) => parseHostPort(r)!)];
  }

  /** The endpoint in use. */
  get at(): Endpoint {
    return this.endpoints[this.current];
  }

  /** Moves to the next relay (failover); returns it. */
  next(): Endpoint {
    this.current = (this.current + 1) % this.endpoints.length;
    return this.at;
  }

  /** The registration API of the relay in use: config.toml's for the one registered with, else the accepted list's (or config.toml's when it names none). */
  api(): string {
    const config = this.o.config();
    const at = endpointText(this.at);
    if (at === endpointText({ host: config.ssh_host, port: config.ssh_port })) return config.relay;
    return readAcceptedList(this.o.paths.relayList)?.list.relays.find((r) => endpointText(r) === at)?.api ?? config.relay;
  }

  /** Asks the relay in use for the current list, and takes it if it is signed by that relay's pinned key; never throws. */
  refresh(): Promise<void> {
    // One at a time: a connect while a refresh runs needs no second one.
    this.#refreshing ??= this.#refresh().catch((error) => this.o.log(`relays: ${(error as Error).message}; keeping the list`))
      .finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const { paths, log } = this.o;
    const config = this.o.config();
    const at = this.at;
    const primary = { host: config.ssh_host, port: config.ssh_port };
    const accepted = readAcceptedList(paths.relayList);
    const pinned = pinnedHostKey(paths.knownHosts);
    if (!pinned || pinned === "unreadable") return log(`relays: no readable pinned key in "${paths.knownHosts}"; keeping the list`);
    let source: { api: string; key: PublicKey };
    if (endpointText(at) === endpointText(primary)) {
      source = { api: config.relay, key: pinned };
    } else {
      const entry = accepted?.list.relays.find((r) => endpointText(r) === endpointText(at));
      if (!entry) return log(`relays: no accepted relay list names ${endpointText(at)} (its API is unknown); keeping the list`);
      source = { api: entry.api, key: parsePublicKey(entry.host_key) };
    }
    const outcome = await fetchRelayList({
      api: source.api, id: config.id, keyFile: paths.key, check: { signerKey: source.key, previous: accepted?.list },
    });
    if (outcome.refused) return log(`relays: list from ${endpointText(at)} refused: ${outcome.refused}; keeping the list`);
    const relays = saveRelayList(
      { listFile: paths.relayList, knownHosts: paths.knownHosts, primary, primaryKey: `${pinned.type} ${pinned.blob}` }, outcome.signed!, outcome.list!,
    );
    const before = this.endpoints.slice(1).map(endpointText);
    if (relays.join(" ") === before.join(" ")) return;
    this.endpoints = [primary, ...relays.map((r) => parseHostPort(r)!)];
    // The relay in use signed the list and names itself in it: it is still there.
    this.current = Math.max(0, this.endpoints.findIndex((e) => endpointText(e) === endpointText(at)));
    const added = relays.filter((r) => !before.includes(r));
    const removed = before.filter((r) => !relays.includes(r));
    log(`relays: the list from ${endpointText(at)} changed: other relays now ${relays.join(", ") || "none"}` +
      `${added.length ? `; added ${added.join(", ")}` : ""}${removed.length ? `; removed ${removed.join(", ")}` : ""}`);
    this.o.onRelays(relays);
  }
}
