/**
 * Where each file of one installation lives. State sits under PETIT_HOME
 * (default ~/.petit, with config.toml in it); the server and client roles
 * keep their own sub-folders so one home can hold both. The system
 * installation of the Debian package is the one exception: root's petit and
 * the packaged units keep config in /etc/petit and state in /var/lib/petit.
 * @module
 */
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The system installation's config folder; the Debian package creates it, and its presence makes root's petit use it. */
export const SYSTEM_CONFIG_DIR = "/etc/petit";
/** The system installation's state folder (PETIT_HOME of the packaged units). */
export const SYSTEM_STATE_DIR = "/var/lib/petit";

/** What decides the layout; the defaults are this process's. */
export interface LayoutContext {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  /** Tells whether a folder exists (injected by tests). */
  isDirectory?: (path: string) => boolean;
}

/**
 * Tells whether this petit is the system installation: run by root, with
 * the package's /etc/petit present, and PETIT_HOME unset or set to
 * /var/lib/petit (as the packaged units and "petit service install" set it).
 */
export function isSystemInstallation(context: LayoutContext = {}): boolean {
  const { env = process.env, uid = process.getuid?.(), isDirectory = directoryExists } = context;
  if (uid !== 0) return false;
  if (env.PETIT_HOME && resolve(env.PETIT_HOME) !== SYSTEM_STATE_DIR) return false;
  return isDirectory(SYSTEM_CONFIG_DIR);
}

/** Returns the installation's home folder: `$PETIT_HOME`, else /var/lib/petit for the system installation, else `~/.petit`. */
export function petitHome(env: NodeJS.ProcessEnv = process.env, context: LayoutContext = {}): string {
  if (env.PETIT_HOME) return resolve(env.PETIT_HOME);
  return isSystemInstallation({ ...context, env }) ? SYSTEM_STATE_DIR : join(homedir(), ".petit");
}

/**
 * Returns the config file used without `--config`: /etc/petit/config.toml
 * for the system installation, else config.toml in the home.
 */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env, context: LayoutContext = {}): string {
  return isSystemInstallation({ ...context, env }) ? join(SYSTEM_CONFIG_DIR, "config.toml") : join(petitHome(env, context), "config.toml");
}

function directoryExists(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Paths of the relay's files under `home`. */
export function serverPaths(home: string) {
  const dir = join(home, "server");
  return {
    dir,
    token: join(dir, "enroll.token"),
    tokens: join(dir, "tokens.json"),
    controlSecret: join(dir, "control.secret"),
    /** The key of browser sign-in cookies' MACs: replacing it signs every browser out. */
    signInSecret: join(dir, "sign-in.secret"),
    registry: join(dir, "registry.json"),
    /** Nonces of accepted signed requests, kept until they expire (replay protection across restarts). */
    nonces: join(dir, "nonces.json"),
    authorizedKeys: join(dir, "authorized_keys"),
    hostKey: join(dir, "ssh_host_ed25519_key"),
    sshdConfig: join(dir, "sshd_config"),
    sshdPid: join(dir, "sshd.pid"),
    sshdLog: join(dir, "sshd.log"),
    daemonPid: join(dir, "serverd.pid"),
    daemonLog: join(dir, "serverd.log"),
    /** ACME account key and certificates (all 0600), kept across restarts. */
    acmeDir: join(dir, "acme"),
  };
}

/** Paths of the client's files under `home`. */
export function clientPaths(home: string) {
  const dir = join(home, "client");
  return {
    dir,
    key: join(dir, "id_ed25519"),
    knownHosts: join(dir, "known_hosts"),
    /** The last relay list accepted (signed; see protocol/relay-list.ts): which key and API belong to which relay. */
    relayList: join(dir, "relays.signed"),
    controlSecret: join(dir, "control.secret"),
    daemonPid: join(dir, "clientd.pid"),
    sshPid: join(dir, "ssh.pid"),
    daemonLog: join(dir, "clientd.log"),
    /** Present while the tunnel is paused (petit pause), so the pause outlives a restart of the daemon. */
    paused: join(dir, "paused"),
  };
}

/** The relay's files (see serverPaths). */
export type ServerPaths = ReturnType<typeof serverPaths>;
/** The client's files (see clientPaths). */
export type ClientPaths = ReturnType<typeof clientPaths>;
