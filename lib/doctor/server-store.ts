/**
 * The shared store's check (relays sharing a registry in PostgreSQL): the
 * store answers, its schema is the one this petit reads, the clocks agree,
 * and the other relays it lists answer on their node address.
 * @module
 */
import { canConnect } from "../net.ts";
import { fail, ok, warn, type Finding } from "./check.ts";
import type { ServerContext } from "./server-context.ts";

/** Clock skew beyond which signed requests (fresh for ±300 s) start to fail between relays. */
const SKEW_WARN_S = 30;

/** The store: reachable, schema version, clock skew, peers reachable. */
export async function checkStore({ config, configFile }: ServerContext): Promise<Finding> {
  if (!config.store) return ok("no shared store: this relay keeps its registry in its own files");
  // Loaded only here: the PostgreSQL driver is not part of every command's start-up.
  const [{ default: pg }, { describeStore }, { SCHEMA_VERSION, schemaVersion }, { NODE_HEARTBEAT_MS }] = await Promise.all([
    import("pg"), import("../server/store/pg-store.ts"), import("../server/store/schema.ts"), import("../server/store/open.ts"),
  ]);
  const where = describeStore(config.store);
  const db = new pg.Client({ connectionString: config.store, connectionTimeoutMillis: 3_000, application_name: "petit doctor" });
  try {
    await db.connect();
  } catch (error) {
    return fail(`the store ${where} does not answer: ${(error as Error).message}`,
      `start PostgreSQL there, or correct server.store in "${configFile}" (petit server init --store URL checks it)`);
  }
  try {
    const version = await schemaVersion(db).catch(() => 0);
    if (version !== SCHEMA_VERSION) {
      return fail(`the store ${where} has schema version ${version}, this petit reads version ${SCHEMA_VERSION}`,
        version < SCHEMA_VERSION ? "petit server up (it migrates the schema)" : "upgrade petit on this relay to the version the other relays run");
    }
    const { rows: [clock] } = await db.query<{ now: Date }>("SELECT now() AS now");
    const skew = Math.abs(clock.now.getTime() - Date.now()) / 1000;
    const { rows: nodes } = await db.query<{ name: string; address: string }>(
      "SELECT name, address FROM petit_nodes WHERE seen > now() - make_interval(secs => $1) ORDER BY name", [(3 * NODE_HEARTBEAT_MS) / 1000],
    );
    const unreachable: string[] = [];
    for (const node of nodes) {
      const [host, port] = [node.address.replace(/:\d+$/, "").replace(/^\[|\]$/g, ""), Number(/:(\d+)$/.exec(node.address)?.[1])];
      if (!port || !(await canConnect(host, port, 2_000))) unreachable.push(`${node.name} (${node.address})`);
    }
    const summary = `store ${where}: schema version ${version}; ${nodes.length} relay(s) active: ${nodes.map((n) => n.name).join(", ") || "none yet"}`;
    if (skew > SKEW_WARN_S) {
      return warn(`${summary}; this machine's clock is ${skew.toFixed(0)} s off the store's`, "synchronize the clocks (systemd-timesyncd or chrony) of every relay and the store");
    }
    if (unreachable.length) {
      return warn(`${summary}; not reachable from here: ${unreachable.join(", ")}`,
        "check that relay's server.node_address and the firewall between the relays (visitors reaching this relay for a tunnel held there get 502)");
    }
    return ok(`${summary}; clocks within ${skew.toFixed(1)} s`);
  } finally {
    await db.end().catch(() => undefined);
  }
}
