/**
 * petit-serverd: the registration API, the Host-header proxy, the control
 * port and the sshd tunnels log in to (petit's own, or the machine's in
 * system mode), in one process.
 * @module
 */
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from "node:net";
import { hostname, userInfo } from "node:os";
import type { ServerConfig } from "../config/schema.ts";
import { parseRange } from "../config/values.ts";
import { createControlServer } from "../daemon/control-server.ts";
import { SessionStore } from "../ui/session.ts";
import { RELAY_PAGE } from "../ui/relay-page.ts";
import { consoleHooks, consoleRoutes } from "../ui/serve.ts";
import { readTls, reloadTls } from "../http/server.ts";
import { LogRotator } from "../daemon/log-file.ts";
import { claimPidFile } from "../daemon/pid-file.ts";
import { close, listen } from "../http/listen.ts";
import type { ServerPaths } from "../paths.ts";
import { ProofChecker } from "../proof.ts";
import { ensureSecret, readSecret } from "../secrets.ts";
import { createApiServer } from "./api/api.ts";
import { ServerMetrics } from "./metrics/metrics.ts";
import { PresenceMonitor } from "./metrics/presence.ts";
import { AccessLog, accessLogPath } from "./proxy/access-log.ts";
import { createProxyServer } from "./proxy/proxy.ts";
import { portsOf } from "./registry/registry.ts";
import { nodeName, openRegistry } from "./store/open.ts";
import { findSshd } from "../ssh/find-sshd.ts";
import { createRelayAcme } from "./acme/acme.ts";
import { ManagedSshd } from "./sshd/managed-sshd.ts";
import type { SshdBackend } from "./sshd/backend.ts";
import { SystemSshd, systemSshdOptions } from "./sshd/system-sshd.ts";
import { serverControlRoutes } from "./control/control-routes.ts";
import { endRevokedSessions, endSessionsOnPort } from "./sshd/stale-ports.ts";
import { NonceFile } from "./api/nonce-store.ts";
import { SessionSweeper } from "./sshd/session-sweep.ts";
import { parseNetworks, VisitorGate } from "./proxy/visitor-auth.ts";
import { SignIn } from "./proxy/sign-in/sign-in.ts";
import { makeSignInLink } from "./proxy/sign-in/link-url.ts";
import { ensureTunnelUser } from "./sshd/tunnel-user.ts";
import { TokenStore } from "./tokens/tokens.ts";
import { tokenRoutes } from "./tokens/token-routes.ts";
import { TokenUses } from "./tokens/token-uses.ts";
import { relayEntryOf, RelayListSigner } from "./api/relay-list-signer.ts";

/** A running relay. */
export interface RunningServer {
  /**
   * Stops everything it started. On SIGUSR2 (`petit server restart`) sshd and
   * its open tunnels are left running for the next petit-serverd to adopt.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGHUP: reload the TLS certificate and key. */
  reload(): void;
}

/** Starts every part of the relay; resolves once all of them listen. */
export async function startServerDaemon(
  config: ServerConfig, paths: ServerPaths, log: (line: string) => void,
): Promise<RunningServer> {
  if (!readSecret(paths.token)) throw new Error(`No enrollment token at "${paths.token}": run "petit server init" first`);
  const tokens = new TokenStore({ main: paths.token, extra: paths.tokens });
  const tokenUses = new TokenUses(tokens);
  const controlSecret = ensureSecret(paths.controlSecret);
  const node = nodeName(config.node_address, config.http_port);
  // How the other relays and moving clients reach this one, when server.node_address does not say.
  const nodeHost = config.node_address.replace(/:\d+$/, "") || (config.listen === "0.0.0.0" || config.listen === "::" ? hostname() : config.listen);
  // Where clients reach this relay's sshd and API: the registration answer's relay list and the store's row say so.
  const selfEntry = () => relayEntryOf({
    name: node, host: config.ssh_host || nodeHost, port: config.ssh_port, apiPort: config.api_port, tls: Boolean(config.tls_cert), hostKey: sshd.hostKey(),
  });
  const opened = await openRegistry(config.store, {
    file: paths.registry, authorizedKeys: paths.authorizedKeys, range: parseRange(config.port_range)!, isPortFree, node, tokenFile: paths.token, extraTokenFile: paths.tokens,
    nodeAddress: config.node_address || `${nodeHost}:${config.http_port}`, signInSecretFile: paths.signInSecret,
  }, log);
  const { registry, peering } = opened;
  const user = await ensureTunnelUser(config.tunnel_user, log);
  const sshd: SshdBackend = config.ssh_mode === "system"
    ? new SystemSshd(systemSshdOptions(config, paths, user, log))
    : new ManagedSshd({
      sshdPath: findSshd(config.sshd_path), configFile: paths.sshdConfig, logFile: paths.sshdLog,
      listen: config.listen, port: config.ssh_port, hostKey: paths.hostKey, authorizedKeys: paths.authorizedKeys,
      pidFile: paths.sshdPid, user, strictModes: true, keysViaCommand: user !== userInfo().username, log,
      maxStartupsPerSource: config.ssh_max_startups_per_source,
    });
  // Every 2 s: "petit server clients" shows a change within seconds, and each poll costs a process spawn.
  const presence = new PresenceMonitor(registry, 2_000, config.store ? () => sshd.pid : undefined);
  const metrics = new ServerMetrics();
  const sweeper = new SessionSweeper({ sshdPid: () => sshd.pid, tunnelUser: user, log });
  const accessLog = config.access_log ? new AccessLog(accessLogPath(config.access_log, paths.dir), log) : undefined;
  // sshd writes its log itself and outlives us, so it cannot reopen it: copy and truncate (its fd is O_APPEND, see
  // sshd/managed-sshd.ts). The access log's stream appends too, so the same suits it.
  const logRotation = new LogRotator([paths.sshdLog, ...(accessLog ? [accessLog.path] : [])], { log });
  const tlsFiles = config.tls_cert ? { cert: config.tls_cert, key: config.tls_key } : undefined;
  // With [server.acme] the proxy listens on https_port and the plain port only answers challenges and redirects.
  const acme = config.acme && createRelayAcme({
    config: config.acme, dir: paths.acmeDir, domain: config.domain, httpsPort: config.https_port, clients: () => registry.list(), log,
    sharedChallenges: opened.acmeChallenges,
  });
  const tls = acme ? acme.tls : tlsFiles && readTls(tlsFiles);
  const proxyPort = acme ? config.https_port : config.http_port;
  // With a store the secret is every relay's (openRegistry copied it), and a link is spent once for all of them.
  const signIn = new SignIn({ secret: ensureSecret(paths.signInSecret), claimNonce: opened.claimNonce });
  const proxy = createProxyServer({
    domain: config.domain, log, tls, tlsAlpnChallenges: acme?.tlsAlpn,
    resolve: (label) => {
      const route = registry.route(label);
      if (!route) return undefined;
      const id = route.client.id;
      // Held here, or nowhere the store knows of: served from this relay's loopback, as with a single relay.
      const peer = peering && !presence.holds(id) ? peering.holder(id) : undefined;
      return { id, port: route.port, access: route.client.access, peer };
    },
    peering: peering && {
      secret: peering.secret, self: node,
      // A client that just moved here is forwarded to its old relay until presence is read again: read it now.
      onUnreachable: () => void Promise.all([presence.poll(), peering.refresh()]),
    },
    gate: new VisitorGate(parseNetworks(config.allow_from), { cookie: signIn.verify }),
    signIn,
    metrics,
    trustedProxies: parseNetworks(config.trusted_proxies),
    upstreamTimeoutMs: config.upstream_timeout * 1000,
    proxyProtocol: config.proxy_protocol,
    bodyTimeoutMs: config.body_timeout * 1000,
    bodyMinRate: config.body_min_rate,
    requestsPerSource: config.requests_per_source,
    onAnswered: accessLog && ((req, status, ms) => accessLog.write(req, status, ms)),
  });
  // The dashboard's cookies carry the port in their names: browsers share cookies among all ports of 127.0.0.1.
  const sessions = new SessionStore(`petit_relay_${config.control_port}`);
  let ready = false;
  const control = createControlServer(controlSecret, {
    ...serverControlRoutes({
      registry, presence, sshd, sweeper, domain: config.domain, metrics, log, ready: () => ready, node: config.store ? node : undefined,
      signInLink: (client) => makeSignInLink(client, signIn.links, {
        domain: config.domain, httpPort: proxyPort, tls: Boolean(tls), behindBalancer: config.trusted_proxies.length > 0,
      }),
      acme: acme ? () => acme.certificates.status() : undefined,
    }),
    ...tokenRoutes(opened.tokens ?? tokens, log),
    ...consoleRoutes(sessions, () => (control.address() as AddressInfo).port),
  }, log, consoleHooks({
    sessions, page: RELAY_PAGE, loginCommand: "petit server ui", log,
    // Presence read fresh, as for "petit server clients": a scrape right after a change sees it.
    metrics: async () => {
      await presence.refresh();
      return metrics.render(registry.list().map((c) => ({ id: c.id, name: c.name, online: presence.get(c.id).online }))) + (acme?.metrics() ?? "");
    },
    notReady: () => (!ready ? "starting" : sshd.pid === undefined ? "sshd is not running" : sshd.failing),
  }));

  // The control port is bound first: it is the lock that keeps a second petit-serverd out.
  await listen(control, "127.0.0.1", config.control_port, "the control port");
  const releasePid = claimPidFile(paths.daemonPid);
  const servers: NetServer[] = [control];
  const shutdown = async (keepSshd: boolean) => {
    presence.stop();
    metrics.stop();
    acme?.certificates.stop();
    sweeper.stop();
    logRotation.stop();
    if (keepSshd) sshd.release();
    else await sshd.stop();
    await Promise.all(servers.map(close));
    await proxy.closePools();
    await accessLog?.close();
    await opened.close();
    releasePid();
  };
  try {
    await sshd.start();
    const hostKey = sshd.hostKey();
    // Proofs and port releases share one replay memory, kept on disk across restarts.
    const nonces = new NonceFile(paths.nonces);
    const relayList = new RelayListSigner({ self: selfEntry, peers: () => opened.peers(), keyFile: sshd.hostKeyFile(), log });
    const api = createApiServer({
      registry, proof: new ProofChecker((id) => tokens.lookup(id), nonces), nonces, trustedProxies: parseNetworks(config.trusted_proxies),
      releasePort: (port) => (sshd.pid ? endSessionsOnPort(port, sshd.pid) : []),
      holdTokenUse: (id) => (opened.tokens ? opened.tokens.hold(id) : tokenUses.hold(id)),
      onEnrolled: () => metrics.registered(),
      domain: config.domain, httpPort: proxyPort, tls, log, failuresPerMinute: config.api_failures_per_minute, signRelayList: () => relayList.current(),
      claimNonce: opened.claimNonce,
      ssh: { host: config.ssh_host, port: config.ssh_port, user, hostKey },
    });
    await listen(api, config.listen, config.api_port, "the registration API");
    servers.push(api);
    await listen(proxy, config.listen, proxyPort, acme ? "the HTTPS proxy" : "the HTTP proxy");
    servers.push(proxy);
    if (acme) {
      await listen(acme.redirect, config.listen, config.http_port, "the plain HTTP port (ACME challenges, redirects to HTTPS)");
      servers.push(acme.redirect);
    }
  } catch (error) {
    // An sshd adopted from an earlier petit-serverd keeps its tunnels up.
    await shutdown(sshd.adopted);
    throw error;
  }
  // A client revoked on another relay sharing the store: its sessions here end as after a revoke here.
  opened.follow(async (client) => {
    const ended = sshd.pid ? await endRevokedSessions(portsOf(client), sshd.pid, sweeper) : [];
    log(`client ${client.id} (${client.key.fingerprint}) is gone from the store; ended ${ended.length} session(s) here`);
  }, () => ({ ...selfEntry(), hostKey: sshd.hostKey() }));
  presence.start();
  metrics.start();
  // Started once the plain port and the proxy listen: the CA's first validation may come within a second of the order.
  acme?.certificates.start();
  ready = true;
  sweeper.start();
  logRotation.start();
  const proxyText = acme ? `HTTPS proxy on ${config.listen}:${proxyPort} (ACME over ${acme.challenge}; plain port ${config.http_port} redirects)` : `proxy on ${config.listen}:${config.http_port}`;
  log(`petit-serverd ${process.pid}: ${proxyText}, API on ${config.api_port}, ` +
    `sshd on ${config.ssh_port}, control on 127.0.0.1:${config.control_port}, registry in ${opened.where}`);
  return {
    stop: (signal) => shutdown(signal === "SIGUSR2"),
    reload() {
      if (acme) return log("SIGHUP: certificates come from ACME and are renewed by petit; nothing to reload");
      if (!tlsFiles) return log("SIGHUP: no TLS configured; nothing to reload");
      reloadTls(servers, tlsFiles);
      log(`SIGHUP: reloaded TLS certificate ${tlsFiles.cert}`);
    },
  };
}

/** Tells whether nothing listens on 127.0.0.1:`port` now. */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}
