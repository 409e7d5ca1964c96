/**
 * Where each file of one installation lives. Everything sits under
 * PETIT_HOME (default ~/.petit); the server and client roles keep their own
 * sub-folders so one home can hold both.
 * @module
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Returns the installation's home folder: `$PETIT_HOME`, else `~/.petit`. */
export function petitHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.PETIT_HOME || join(homedir(), ".petit"));
}

/** Paths of the relay's files under `home`. */
export function serverPaths(home: string) {
  const dir = join(home, "server");
  return {
    dir,
    token: join(dir, "enroll.token"),
    tokens: join(dir, "tokens.json"),
    controlSecret: join(dir, "control.secret"),
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
  };
}

/** Paths of the client's files under `home`. */
export function clientPaths(home: string) {
  const dir = join(home, "client");
  return {
    dir,
    key: join(dir, "id_ed25519"),
    knownHosts: join(dir, "known_hosts"),
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
