/**
 * Opening the relay's registry on its store: registry.json by default, or
 * the PostgreSQL store several relays share (`server.store`). With a shared
 * store, this relay also follows the other relays' changes and shares the
 * main enrollment token, so a client can register through any of them.
 * @module
 */
import { hostname } from "node:os";
import { writeFileAtomic } from "../../fs-atomic.ts";
import { ensureSecret } from "../../secrets.ts";
import type { RelayEntry } from "../../protocol/relay-list.ts";
import { Registry, type ClientRecord, type RegistryOptions } from "../registry/registry.ts";
import type { SharedChallenges } from "../acme/challenges.ts";
import type { TunnelHolder } from "./holders.ts";
import type { PgStore } from "./pg-store.ts";
import type { SharedTokens } from "./pg-tokens.ts";

/** Where clients reach a relay's sshd. */
export interface SshPeerInfo {
  host: string;
  port: number;
  hostKey: string;
  /** Where clients reach its registration API ("http://HOST:PORT"). */
  api: string;
}

/** How often a relay stamps its row in petit_nodes; a row older than three of these is a relay that is gone. */
export const NODE_HEARTBEAT_MS = 30_000;
/** How soon a beat the store did not take is tried again. */
const NODE_BEAT_RETRY_MS = 2_000;

/** The registry, and what the daemon does with a shared store around it. */
export interface OpenedRegistry {
  registry: Registry;
  /**
   * Follows other relays' changes (`onGone` gets each client revoked
   * elsewhere: its sessions here must end) and stamps this relay's row, with
   * `ssh` — where clients reach its sshd — in the store's list of relays.
   */
  follow(onGone: (client: ClientRecord) => Promise<void>, ssh: () => SshPeerInfo): void;
  /** The other relays active now (stamped within three heartbeats), for clients to move to; none without a store. */
  peers(): Promise<RelayEntry[]>;
  /** Records a signed request's nonce in the store; false when a relay did already (a replay). Absent without a store. */
  claimNonce?: (nonce: string, expiresMs: number) => Promise<boolean>;
  /**
   * What the proxy needs to forward a visitor one hop to the relay holding a
   * tunnel: the store's node secret and the holder of each tunnel held
   * elsewhere. Absent without a store.
   */
  peering?: { secret: string; holder(id: number): TunnelHolder | undefined; refresh(): Promise<void> };
  /** The HTTP-01 challenges every relay places, so the CA may ask any relay (acme/challenges.ts); absent without a store. */
  acmeChallenges?: SharedChallenges;
  /** The enrollment tokens every relay shares (with a store, when given the token files); absent otherwise. */
  tokens?: SharedTokens;
  /** Stops following and closes the store's connections. */
  close(): Promise<void>;
  /** Where the registry lives, for logs. */
  where: string;
}

/** Opens the registry `store` names ("" → registry.json); `tokenFile`, this relay's main enrollment token, is shared through the store (the daemon's part, not the CLI's). */
export async function openRegistry(
  store: string,
  options: RegistryOptions & { node: string; nodeAddress?: string; tokenFile?: string; extraTokenFile?: string; signInSecretFile?: string },
  log: (line: string) => void,
): Promise<OpenedRegistry> {
  if (!store) {
    return {
      registry: Registry.open(options), follow: () => undefined, peers: async () => [], close: async () => undefined, where: options.file,
    };
  }
  // The PostgreSQL driver is loaded only by relays that use it.
  const [{ PgStore }, { PgRegistry }, { StoreWatcher }, { TunnelHolders }, { SharedTokens }] = await Promise.all([
    import("./pg-store.ts"), import("./pg-registry.ts"), import("./watch.ts"), import("./holders.ts"), import("./pg-tokens.ts"),
  ]);
  const pg = await PgStore.open(store, log);
  try {
    if (options.tokenFile) await shareSecret(pg, "enrollment_token", options.tokenFile, "enrollment token", log);
    // A browser signed in through one relay is signed in on all, and a sign-in link made on one works on any.
    if (options.signInSecretFile) await shareSecret(pg, "sign_in_secret", options.signInSecretFile, "browser sign-in secret", log);
    const tokens = options.tokenFile && options.extraTokenFile
      ? new SharedTokens(pg, { main: options.tokenFile, extra: options.extraTokenFile }, log) : undefined;
    await tokens?.importLocal();
    await tokens?.sync();
    const backend = new PgRegistry(pg, options.node);
    const registry = await Registry.openWith(options, backend);
    const secret = await nodeSecret(pg);
    const holders = new TunnelHolders(pg, options.node, (3 * NODE_HEARTBEAT_MS) / 1000);
    let watcher: InstanceType<typeof StoreWatcher> | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let retry: NodeJS.Timeout | undefined;
    let closed = false;
    return {
      registry, where: pg.where, tokens,
      peering: { secret, holder: (id) => holders.holder(id), refresh: () => holders.read() },
      acmeChallenges: {
        async put(token, keyAuthorization) {
          await pg.query("DELETE FROM petit_acme_challenges WHERE until < now()");
          // An hour is past any order's life; the issuer removes it sooner.
          await pg.query(
            `INSERT INTO petit_acme_challenges (token, key_authorization, until) VALUES ($1, $2, now() + interval '1 hour')
             ON CONFLICT (token) DO UPDATE SET key_authorization = EXCLUDED.key_authorization, until = EXCLUDED.until`,
            [token, keyAuthorization],
          );
        },
        async remove(token) {
          await pg.query("DELETE FROM petit_acme_challenges WHERE token = $1", [token]);
        },
        async get(token) {
          const { rows } = await pg.query<{ key_authorization: string }>(
            "SELECT key_authorization FROM petit_acme_challenges WHERE token = $1 AND until > now()", [token],
          );
          return rows[0]?.key_authorization;
        },
      },
      async claimNonce(nonce, expiresMs) {
        const { rowCount } = await pg.query("INSERT INTO petit_nonces (nonce, until) VALUES ($1, $2) ON CONFLICT DO NOTHING", [nonce, new Date(expiresMs)]);
        return rowCount === 1;
      },
      async peers() {
        const { rows } = await pg.query<{ name: string; ssh_host: string; ssh_port: number; host_key: string; api_url: string }>(
          `SELECT name, ssh_host, ssh_port, host_key, api_url FROM petit_nodes
           WHERE name <> $1 AND ssh_port > 0 AND seen > now() - make_interval(secs => $2) ORDER BY name`,
          [options.node, (3 * NODE_HEARTBEAT_MS) / 1000],
        );
        // The host key without its comment: "TYPE BASE64" is what clients pin and what the signed list carries.
        return rows.map((r) => ({ name: r.name, host: r.ssh_host, port: r.ssh_port, host_key: r.host_key.split(" ").slice(0, 2).join(" "), api: r.api_url }));
      },
      follow(onGone, ssh) {
        watcher = new StoreWatcher(pg, backend, {
          log,
          onChange: async () => {
            for (const client of await registry.reload(() => backend.load())) await onGone(client);
            // Token changes bump the same version: every relay's mirror follows within the watcher's second.
            await tokens?.sync();
          },
        });
        // "" is no version: the first poll reads the registry again, catching a change made since it was loaded.
        watcher.start("");
        // Where the other relays (and petit doctor) find this one.
        const beat = () => {
          const self = ssh();
          clearTimeout(retry);
          void pg.query(
            `INSERT INTO petit_nodes (name, address, seen, ssh_host, ssh_port, host_key, api_url) VALUES ($1, $2, now(), $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, seen = now(),
               ssh_host = EXCLUDED.ssh_host, ssh_port = EXCLUDED.ssh_port, host_key = EXCLUDED.host_key, api_url = EXCLUDED.api_url`,
            [options.node, options.nodeAddress ?? options.node, self.host, self.port, self.hostKey, self.api],
          ).catch(() => {
            // Missed beats make the other relays drop this one's tunnels: try again soon, not a whole interval later.
            if (!closed) retry = setTimeout(beat, NODE_BEAT_RETRY_MS).unref();
          });
          void pg.query("DELETE FROM petit_nonces WHERE until < now()").catch(() => undefined);
        };
        beat();
        holders.start();
        heartbeat = setInterval(beat, NODE_HEARTBEAT_MS);
        heartbeat.unref();
      },
      async close() {
        closed = true;
        clearInterval(heartbeat);
        clearTimeout(retry);
        holders.stop();
        await watcher?.stop();
        await pg.close();
      },
    };
  } catch (error) {
    await pg.close();
    throw error;
  }
}

/** This relay's name in the store: its node address, or the host name. */
export function nodeName(nodeAddress: string, httpPort: number): string {
  return nodeAddress || `${hostname()}:${httpPort}`;
}

/** The secret relays sign forwarded connections with, made by schema migration 3. */
async function nodeSecret(pg: PgStore): Promise<string> {
  const { rows } = await pg.query<{ value: string }>("SELECT value FROM petit_meta WHERE key = 'node_secret'");
  const secret = rows[0]?.value ?? "";
  if (!/^[0-9a-f]{64}$/.test(secret)) throw new Error(`the store ${pg.where} holds no valid node secret (petit_meta 'node_secret'): its schema migration 3 did not run`);
  return secret;
}

/**
 * The first relay's secret in `file` (its main enrollment token, its
 * browser sign-in secret) becomes every relay's: written to the store under
 * `key` if it has none, else copied from it into this relay's file.
 */
async function shareSecret(pg: PgStore, key: string, file: string, what: string, log: (line: string) => void): Promise<void> {
  const local = ensureSecret(file);
  const { rows } = await pg.query<{ value: string }>(
    `INSERT INTO petit_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key RETURNING value`,
    [key, local],
  );
  const shared = rows[0].value;
  if (shared !== local) {
    writeFileAtomic(file, `${shared}\n`, 0o600);
    log(`${what}: using the one the store ${pg.where} holds (shared by every relay)`);
  }
}
