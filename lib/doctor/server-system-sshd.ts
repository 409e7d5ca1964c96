/**
 * The relay's account and system-sshd checks: which account tunnels log in
 * as, and, in system sshd mode, that the machine's own sshd Includes petit's
 * drop-in, applies it to that account, and runs.
 * @module
 */
import { join } from "node:path";
import { userInfo } from "node:os";
import { readFileIfExists } from "../fs-atomic.ts";
import { ensureIncluded, verifyDropIn, type DropInTarget } from "../server/sshd/system-sshd-install.ts";
import { querySshd, sshdPidFrom, uidOf, type SshdSettingsMap } from "../server/sshd/system-sshd-query.ts";
import { DROP_IN_NAME } from "../server/sshd/system-sshd.ts";
import { accountLocked, rootTunnelUser } from "../server/sshd/tunnel-user.ts";
import { DROP_IN_MARKER, renderDropIn } from "../ssh/sshd-config.ts";
import { fail, ok, warn, type Finding } from "./check.ts";
import { restartFix, type ServerContext } from "./server-context.ts";

/** The tunnel account exists and sshd will let it log in (not locked); under a non-root relay it is the relay's own user. */
export function checkTunnelAccount(context: ServerContext): Finding {
  if (process.getuid?.() !== 0) return ok(`tunnels log in as this relay's own user, "${userInfo().username}" (the only account a non-root sshd serves)`);
  const { config, configFile } = context;
  const user = rootTunnelUser(config.tunnel_user);
  if (user === "root") {
    return warn('tunnels log in as root (server.tunnel_user = "root")', `remove server.tunnel_user from "${configFile}" (petit then uses the account petit-tunnel), then ${restartFix(context)}`);
  }
  const uid = uidOf(user);
  if (uid === undefined) {
    const finding = config.ssh_mode === "system" ? fail : warn;
    return finding(`the tunnel account "${user}" does not exist`, `${restartFix(context)} (it creates the account)`);
  }
  if (accountLocked(user)) {
    return fail(`the tunnel account "${user}" is locked (its password field starts with "!"), so sshd refuses every tunnel`, `usermod -p '*' ${user} (no password, not locked; ${restartFix(context)} does it too)`);
  }
  return ok(`tunnels log in as "${user}" (uid ${uid}), which has no password and is not locked`);
}

/**
 * System sshd mode: the main config Includes petit's drop-in, the drop-in is
 * petit's and current, `sshd -t` accepts the whole config, `sshd -T` applies
 * every line of the drop-in to the tunnel account, and the sshd runs.
 */
export async function checkSystemSshdConfig(context: ServerContext): Promise<Finding> {
  const { config, paths } = context;
  const main = config.system_sshd_config;
  const target: DropInTarget = { sshdPath: context.sshdPath!, mainConfig: main, dropIn: join(config.system_dropin_dir, DROP_IN_NAME) };
  const user = rootTunnelUser(config.tunnel_user);
  try {
    ensureIncluded(target);
  } catch (error) {
    const [what, line] = (error as Error).message.split("\n");
    if (!line) return fail(what, `set server.system_sshd_config in "${context.configFile}" to the sshd config in use`);
    return fail(what.replace(/: add this line.*$/, ""), `add "${line.trim()}" near the top of "${main}", before any Match block; then ${restartFix(context)}`);
  }
  const text = readFileIfExists(target.dropIn);
  if (text === undefined) return fail(`petit's drop-in "${target.dropIn}" is missing`, `${restartFix(context)} (it writes the drop-in, checks it with sshd and reloads sshd)`);
  if (!text.startsWith(DROP_IN_MARKER)) return fail(`"${target.dropIn}" was not written by petit`, "move it away, or set server.system_dropin_dir");
  let settings: SshdSettingsMap;
  try {
    await verifyDropIn(target, text, user);
    settings = await querySshd(target.sshdPath, main);
  } catch (error) {
    const message = (error as Error).message;
    return fail(message, /does not apply/.test(message)
      ? `in "${main}", move what overrides petit's settings below petit's Include line (or out of the way of "${user}")`
      : `fix what sshd names in "${main}"; check with: ${target.sshdPath} -t -f ${main}`);
  }
  const pidFile = config.system_sshd_pid || settings.get("pidfile")?.[0] || "/run/sshd.pid";
  const pid = sshdPidFrom(pidFile);
  if (!pid) return fail(`the system sshd is not running (no live sshd in "${pidFile}")`, "systemctl start ssh (or set server.system_sshd_pid to the file its PidFile names)");
  context.systemSshdPid = pid;
  if (text !== renderDropIn({ user, authorizedKeys: paths.authorizedKeys })) {
    return warn(`"${target.dropIn}" differs from what this petit writes (edited by hand, or from another version)`, `${restartFix(context)} (it rewrites the drop-in and reloads sshd)`);
  }
  if (settings.get("maxstartups")?.[0] === "10:30:100") {
    return warn(`the system sshd (pid ${pid}) applies petit's drop-in, but keeps MaxStartups 10:30:100, which refuses most of a reconnect storm`,
      `add "MaxStartups 1000:30:2000" to "${main}", then reload sshd (petit changes no global setting)`);
  }
  return ok(`the system sshd (pid ${pid}) includes "${target.dropIn}" and applies all of it to "${user}"`);
}
