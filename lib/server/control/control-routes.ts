/**
 * What petit-serverd's control port answers: status, clients, revoke and
 * visitor access. Only the owner of server/control.secret can call it.
 * @module
 */
import { controlError, type ControlRoutes } from "../../daemon/control-server.ts";
import type { AccessView, AcmeCertificateView, ServerStatus, SignInLinkView } from "../../protocol/server-control.ts";
import { parseAccessChange } from "./access-change.ts";
import { clientRows } from "./clients-view.ts";
import type { ServerMetrics } from "../metrics/metrics.ts";
import type { PresenceMonitor } from "../metrics/presence.ts";
import { portsOf, type ClientRecord, type Registry } from "../registry/registry.ts";
import type { SshdBackend } from "../sshd/backend.ts";
import type { SessionSweeper } from "../sshd/session-sweep.ts";
import { endRevokedSessions } from "../sshd/stale-ports.ts";

/** What the routes work on. */
export interface ControlContext {
  registry: Registry;
  presence: PresenceMonitor;
  sshd: SshdBackend;
  /** Ends sessions that forward nothing (a revoked key's session that has not bound its port yet). */
  sweeper: SessionSweeper;
  /** The relay's domain, for the clients view's host names. */
  domain: string;
  /** The proxy's counters, shown with each client. */
  metrics?: ServerMetrics;
  log: (line: string) => void;
  /** This relay's name among relays sharing a store (undefined when alone). */
  node?: string;
  /** False until every part listens: the control port answers earlier, being the lock against a second daemon. */
  ready?: () => boolean;
  /** Makes a single-use browser sign-in link for a client (sign-in/links.ts); throws a controlError when there can be none. */
  signInLink?: (client: ClientRecord) => SignInLinkView;
  /** The ACME certificates' state, with [server.acme]. */
  acme?: () => AcmeCertificateView[];
}

/** Returns the control routes of the relay. */
export function serverControlRoutes(context: ControlContext): ControlRoutes {
  const { registry, presence, sshd, sweeper, domain, metrics, log, node, ready = () => true, signInLink, acme } = context;
  const find = (label: string): ClientRecord => {
    const client = registry.lookup(label);
    if (!client) throw controlError(404, `no client "${label}" is registered`);
    return client;
  };
  const view = (c: ClientRecord): AccessView => ({ id: c.id, name: c.name, ...c.access });
  return {
    "GET /v1/status": (): ServerStatus => ({ pid: process.pid, sshd_pid: sshd.pid, clients: registry.list().length, ready: ready(), ...(acme ? { acme: acme() } : {}) }),
    "GET /v1/clients": async () => {
      // Fresh, not the last periodic poll: a tunnel that just came up or went down shows at once.
      await presence.refresh();
      return clientRows(registry, presence, domain, metrics && ((id) => metrics.view(id)), await registry.presenceElsewhere(), node ?? null);
    },
    "POST /v1/clients/:label/revoke": async ({ params, body }) => {
      const client = find(params.label);
      const freeNames = (body as { free_names?: unknown } | undefined)?.free_names;
      if (freeNames !== undefined && typeof freeNames !== "boolean") throw controlError(400, '"free_names" must be true or false');
      await registry.revoke(client.id, { freeNames: freeNames === true });
      // Removing the key does not end an open session: end them all, so the ports stop answering now.
      const ended = sshd.pid ? await endRevokedSessions(portsOf(client), sshd.pid, sweeper) : [];
      log(`revoked client ${client.id} (${client.key.fingerprint}); ended ${ended.length} session(s)`);
      return { id: client.id, name: client.name, port: client.port, sessions_ended: ended.length };
    },
    "GET /v1/clients/:label/access": ({ params }) => view(find(params.label)),
    "POST /v1/clients/:label/access": async ({ params, body }) => {
      const client = find(params.label);
      const change = parseAccessChange(body);
      const updated = await registry.updateAccess(client.id, change);
      log(`access of client ${client.id} changed: ${JSON.stringify({ ...change, rotate: change.rotate ?? false })}`);
      return view(updated);
    },
    "POST /v1/clients/:label/sign-in-link": ({ params }) => {
      if (!signInLink) throw controlError(501, "this relay has no browser sign-in");
      const client = find(params.label);
      const link = signInLink(client);
      log(`sign-in link made for client ${client.id}, expiring ${link.expires_at}`);
      return link;
    },
  };
}
