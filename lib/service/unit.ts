/**
 * The systemd units that run petit's daemons in the foreground: the text of
 * petit.service (petit-clientd) and petit-server.service (petit-serverd and
 * its sshd), with the reasons for their settings written into them.
 * @module
 */

/** Which daemon a unit runs. */
export type Role = "client" | "server";

/** A system unit (/etc/systemd/system, runs as root) or a user's own (systemctl --user). */
export type Scope = "system" | "user";

/** What a unit is made of; every path absolute. */
export interface UnitOptions {
  role: Role;
  scope: Scope;
  /** PETIT_HOME: set in the unit's environment, and the one folder it may write. */
  home: string;
  /** Program and arguments, e.g. ["/usr/bin/node", "/opt/petit/dist/petit.mjs", "up", "--foreground"]. */
  command: string[];
  /** Folder to start in, when `command` names a module relative to it (`node --import tsx`). */
  workingDirectory?: string;
  /**
   * Set for the units the Debian package ships: the config file the unit
   * waits for (ConditionPathExists=), so it never starts before
   * "petit server init" or "petit register" wrote it.
   */
  packagedFor?: string;
}

/** Returns the unit's file name: "petit.service" or "petit-server.service". */
export function unitFileName(role: Role): string {
  return role === "server" ? "petit-server.service" : "petit.service";
}

/** Folders that ProtectHome= hides or makes read-only. */
const HOME_FOLDERS = ["/home", "/root", "/run/user"];

/**
 * Returns the unit file text. Throws when a path cannot be written into a
 * unit file (a line break or another control character in it).
 * @example renderUnit({ role: "client", scope: "system", home: "/root/.petit", command: ["/usr/bin/node", "/opt/petit/dist/petit.mjs", "up", "--foreground"] })
 */
export function renderUnit(options: UnitOptions): string {
  const { role, scope, home, command, workingDirectory, packagedFor } = options;
  for (const value of [home, ...command, workingDirectory ?? "", packagedFor ?? ""]) {
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f]/.test(value)) throw new Error(`Cannot write ${JSON.stringify(value)} into a systemd unit: it holds a control character`);
  }
  if (!command[0]?.startsWith("/")) throw new Error(`The unit's program must be an absolute path, got "${command[0]}"`);
  const server = role === "server";
  const name = unitFileName(role);
  const systemctl = scope === "user" ? "systemctl --user" : "systemctl";
  const lines = [
    packagedFor
      ? `# ${name}: shipped by the petit Debian package; override it with "systemctl edit ${name}".`
      : `# ${name}: written by "petit service install"; "petit service uninstall" removes it.`,
    `# Runs ${server ? "petit-serverd (API, proxy, control port) and its sshd" : "petit-clientd"} in the foreground:`,
    `# its log goes to the journal (journalctl${scope === "user" ? " --user" : ""} -u ${name}).`,
    "[Unit]",
    `Description=${server ? "petit relay (petit-serverd and its sshd)" : "petit tunnel client (petit-clientd)"}`,
    // The package ships the man page; a checkout has none.
    ...(packagedFor ? ["Documentation=man:petit(1)"] : []),
    // A user manager has no network-online.target to wait for.
    ...(scope === "system" ? ["After=network-online.target", "Wants=network-online.target"] : []),
    ...(packagedFor ? [
      `# Not before the installation is configured ("petit ${server ? "server init" : "register"}" writes the file).`,
      `ConditionPathExists=${quote(packagedFor, false)}`,
    ] : []),
    "# Never stop restarting: the daemon retries its own work forever and logs why; systemd steps in only when it dies.",
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    `Environment=${quote(`PETIT_HOME=${home}`, false)}`,
    ...(workingDirectory ? [`WorkingDirectory=${escapeSpecifiers(workingDirectory)}`] : []),
    `ExecStart=${command.map((arg) => quote(arg, true)).join(" ")}`,
    ...(server ? [
      `# SIGHUP reloads the TLS certificate and key (e.g. from certbot's deploy hook: ${systemctl} reload ${name}).`,
      "ExecReload=/bin/kill -HUP $MAINPID",
    ] : []),
    "Restart=always",
    "RestartSec=2",
    ...(server ? [
      "# process, not control-group or mixed: systemd signals petit-serverd alone, never its sshd.",
      `# - ${systemctl} stop or restart: SIGTERM; petit-serverd then stops sshd and the tunnels itself.`,
      "# - petit-serverd dies, or gets SIGUSR2 (the signal of \"petit server restart\";",
      `#   ${systemctl} kill --kill-whom=main --signal=SIGUSR2 ${name}): sshd and every open`,
      "#   tunnel keep running, systemd starts petit-serverd again (Restart=always) and it adopts that sshd.",
      "#   systemd then logs \"Found left-over process ... (sshd)\": that is expected.",
      "# With control-group or mixed, systemd would kill sshd and cut every tunnel whenever petit-serverd exits.",
      "KillMode=process",
    ] : [
      "# mixed: SIGTERM to petit-clientd alone, which ends its ssh itself; whatever is left after it exits gets SIGKILL.",
      "KillMode=mixed",
    ]),
    "TimeoutStopSec=20",
    "",
    ...hardening(options),
    "",
    "[Install]",
    `WantedBy=${scope === "user" ? "default.target" : "multi-user.target"}`,
  ];
  return lines.join("\n") + "\n";
}

/** The sandboxing lines, with why each role gets what it gets. */
function hardening({ role, scope, home, command, workingDirectory }: UnitOptions): string[] {
  const writable = `ReadWritePaths=${quote(home, false)}`;
  if (scope === "user") {
    return [
      "# Hardening: only NoNewPrivileges. Filesystem sandboxing (ProtectSystem=, PrivateTmp= ...) is left out of",
      "# user units: systemd before 253 ignores it there, later ones need unprivileged user namespaces for it.",
      "NoNewPrivileges=yes",
    ];
  }
  if (role === "server") {
    return [
      "# Hardening, lighter than the client's. As root petit-serverd runs useradd/usermod for the tunnel account",
      "# (/etc/passwd, /etc/shadow, /etc/group, /var/log/lastlog), creates /run/sshd and starts sshd, whose",
      "# sessions log in as that account. So ProtectSystem=yes (only /usr, /boot and /efi read-only), not strict;",
      "# no PrivateTmp (sshd outlives restarts of the unit, and systemd removes a unit's private /tmp when it",
      "# stops); no PrivateDevices or capability limits: sshd and every tunnel session inherit the sandbox, and",
      "# sshd needs root's full privileges (setuid, chroot to /run/sshd) to serve the tunnel account.",
      "NoNewPrivileges=yes",
      "ProtectSystem=yes",
      "ProtectHome=read-only",
      writable,
      "ProtectKernelTunables=yes",
      "ProtectKernelModules=yes",
      "ProtectControlGroups=yes",
    ];
  }
  // ProtectHome=yes hides the home folders: only when neither PETIT_HOME nor petit itself lives there.
  const inHome = [home, ...command, workingDirectory ?? ""].some((path) => HOME_FOLDERS.some((dir) => path === dir || path.startsWith(`${dir}/`)));
  return [
    "# Hardening: the client writes only under PETIT_HOME and needs nothing but the network.",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    writable,
    ...(inHome ? ["# read-only, not yes: PETIT_HOME or petit itself is in a home folder.", "ProtectHome=read-only"] : ["ProtectHome=yes"]),
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectControlGroups=yes",
    "RestrictSUIDSGID=yes",
    "RestrictRealtime=yes",
    "LockPersonality=yes",
    "# Not MemoryDenyWriteExecute: V8's JIT needs memory that is writable and executable.",
  ];
}

/**
 * Quotes one value for a unit file: double quotes when it holds anything
 * but plain path characters, "%" doubled (systemd's specifiers), and, in
 * Exec lines, "$" doubled (systemd's variable expansion).
 */
export function quote(value: string, exec: boolean): string {
  let text = escapeSpecifiers(value);
  if (exec) text = text.replaceAll("$", "$$$$");
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `"${text.replaceAll("\\", "\\\\").replaceAll("\"", "\\\"")}"`;
}

function escapeSpecifiers(value: string): string {
  return value.replaceAll("%", "%%");
}
