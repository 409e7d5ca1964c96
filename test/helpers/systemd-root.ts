/**
 * A real Debian system with systemd as PID 1, for tests of the Debian
 * package: a bookworm root file system made once with debootstrap and cached,
 * copied per test, and booted in its own PID, mount, UTS and network
 * namespaces (`unshare … chroot DIR /lib/systemd/systemd --system`). The test
 * drives it with nsenter and powers it off with SIGRTMIN+4.
 *
 * The cached root holds apt's package lists and the OpenSSH packages
 * (downloaded, not installed), so `apt-get install ./petit_….deb` inside
 * resolves and installs petit's dependencies with no network: the booted
 * system has its own network namespace with only a loopback, where petit's
 * default ports (80, 2222, 3014 …) are free whatever else runs here.
 * @module
 */
import { execa, type Options } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/** Where the pristine root is kept between runs. */
export const CACHE_DIR = "/var/cache/petit-test";
const MIRROR = "http://deb.debian.org/debian";
/** Bump when what the cached root holds changes. */
const PRISTINE = join(CACHE_DIR, "bookworm-systemd-v1");
/** Packages the cached root has downloaded but not installed: what petit's package Depends on. */
const PREFETCHED = ["openssh-server", "openssh-client"];

/** Returns why a booted Debian root cannot be had here, or undefined when it can. */
export async function systemdRootUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "booting a Debian root with systemd needs root (namespaces, chroot, debootstrap)";
  for (const program of ["unshare", "nsenter", "chroot"]) {
    if ((await execa("sh", ["-c", `command -v ${program}`], { reject: false })).exitCode !== 0) return `${program} is not installed`;
  }
  if (existsSync(PRISTINE)) return undefined;
  try {
    const response = await fetch(`${MIRROR}/dists/bookworm/Release`, { method: "HEAD", signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return `the Debian mirror ${MIRROR} answers ${response.status}: cannot build the cached root`;
  } catch (error) {
    return `cannot reach the Debian mirror ${MIRROR} to build the cached root: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * Returns the pristine root, building it first when it is not cached
 * (debootstrap, about 2-3 minutes; installs debootstrap when missing).
 */
export async function pristineRoot(log: (line: string) => void = () => {}): Promise<string> {
  if (existsSync(PRISTINE)) return PRISTINE;
  const run = (program: string, args: string[]) => execa(program, args, { stdin: "ignore", env: { DEBIAN_FRONTEND: "noninteractive" }, timeout: 900_000 });
  await ensureHostPrograms({ debootstrap: "debootstrap" }, log);
  // Built beside the final name, then renamed: a run killed half-way leaves no half-made cache.
  const building = mkdtempSync(`${PRISTINE}.building-`);
  // mkdtemp makes it 0700; as the system's "/" that would lock every service running as another user (dbus …) out.
  chmodSync(building, 0o755);
  try {
    log(`debootstrap bookworm into ${building}`);
    await run("debootstrap", ["--variant=minbase", "--include=systemd,systemd-sysv,dbus", "bookworm", building, MIRROR]);
    await run("chroot", [building, "apt-get", "update", "-qq"]);
    await run("chroot", [building, "apt-get", "install", "-y", "-qq", "--download-only", ...PREFETCHED]);
    renameSync(building, PRISTINE);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    if (existsSync(PRISTINE)) return PRISTINE; // another run made it meanwhile
    throw error;
  }
  return PRISTINE;
}

/** SIGRTMIN+4 on Linux (SIGRTMIN is 34): systemd powers off on it. Node knows no name for it. */
const SIGRTMIN_PLUS_4 = 38;

/**
 * Installs with apt-get the packages of `programs` (program → package) that
 * this machine lacks: a fresh CI machine may have neither debootstrap nor openssl.
 */
export async function ensureHostPrograms(programs: Record<string, string>, log: (line: string) => void = () => {}): Promise<void> {
  const missing: string[] = [];
  for (const [program, pkg] of Object.entries(programs)) {
    if ((await execa("sh", ["-c", `command -v ${program}`], { reject: false })).exitCode !== 0) missing.push(pkg);
  }
  if (missing.length === 0) return;
  log(`installing ${missing.join(", ")}`);
  const options = { stdin: "ignore", env: { DEBIAN_FRONTEND: "noninteractive" }, timeout: 600_000 } as const;
  await execa("apt-get", ["update", "-qq"], options);
  await execa("apt-get", ["install", "-y", "-qq", ...missing], options);
}

/** What a command run in the booted system did. */
export interface Ran {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A booted copy of the pristine root. */
export interface BootedRoot {
  /** The root's folder, as the host sees it. */
  dir: string;
  /** systemd's PID, as the host sees it. */
  pid: number;
  /** Runs `argv` inside the booted system (all its namespaces, its root); never throws on exit codes. */
  exec(argv: string[], options?: Options): Promise<Ran>;
  /** Like exec(), but throws with the output when the exit code is not 0. */
  run(argv: string[], options?: Options): Promise<string>;
  /** Argv prefix that runs a host program in the booted system's network namespace only (host files). */
  inNetwork(argv: string[]): string[];
  /** Powers the system off (SIGRTMIN+4 to its systemd), waits, and deletes the copy. */
  shutdown(): Promise<void>;
}

/** Copies the pristine root and boots it; resolves once systemd reports the system running (or degraded). */
export async function bootSystemdRoot(pristine: string, label: string): Promise<BootedRoot> {
  removeStaleRuns();
  const dir = mkdtempSync(join(CACHE_DIR, `run-${label}-`));
  rmSync(dir, { recursive: true });
  // cp -a, not fs.cpSync: the root holds device nodes (/dev/ptmx …).
  await execa("cp", ["-a", pristine, dir]);
  // Console output of the booted system: kept to show when something fails.
  const console: string[] = [];
  // container= tells systemd it runs in a container: units for hardware, udev, kernel modules are skipped.
  const unshare: ChildProcess = spawn("unshare", [
    "--fork", "--pid", "--mount", "--uts", "--net", `--mount-proc=${join(dir, "proc")}`,
    // The root must be a mount point: systemd's sandboxing of units (ProtectSystem= …) fails with EINVAL otherwise.
    "sh", "-c", 'mount --rbind "$0" "$0" && exec chroot "$0" /lib/systemd/systemd --system', dir,
  ], { stdio: ["ignore", "pipe", "pipe"], env: { container: "petit-test", PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  for (const stream of [unshare.stdout!, unshare.stderr!]) stream.on("data", (chunk: Buffer) => console.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => unshare.once("exit", () => resolve()));
  let pid = 0;
  const stop = async () => {
    if (pid) process.kill(pid, SIGRTMIN_PLUS_4);
    const timer = setTimeout(() => unshare.kill("SIGKILL"), 30_000);
    if (pid) setTimeout(() => { try { process.kill(pid, "SIGKILL"); } catch { /* gone */ } }, 25_000).unref();
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    pid = await childPid(unshare.pid!, exited);
    const enter = (argv: string[]) => ["nsenter", "-t", String(pid), "-m", "-u", "-p", "-n", "-r", "-w", "--", ...argv];
    const exec = async (argv: string[], options: Options = {}): Promise<Ran> => {
      const [program, ...args] = enter(argv);
      const result = await execa(program, args, {
        // detached: its own process group, so that nothing run inside can signal the test runner's.
        reject: false, stdin: "ignore", timeout: 180_000, detached: true, ...options,
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", ...options.env }, extendEnv: false,
      });
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    };
    const run = async (argv: string[], options: Options = {}) => {
      const result = await exec(argv, options);
      if (result.exitCode !== 0) throw new Error(`"${argv.join(" ")}" exited ${result.exitCode} in the booted root:\n${result.stdout}\n${result.stderr}`);
      return result.stdout;
    };
    const deadline = Date.now() + 90_000;
    let state = "";
    while (Date.now() < deadline) {
      state = String((await exec(["systemctl", "is-system-running"])).stdout).trim();
      if (state === "running" || state === "degraded") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (state !== "running" && state !== "degraded") throw new Error(`systemd did not finish booting within 90 s (state "${state}"):\n${console.join("").slice(-3000)}`);
    return { dir, pid, exec, run, inNetwork: (argv) => ["nsenter", "-t", String(pid), "-n", "--", ...argv], shutdown: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Deletes the copies that earlier runs left behind when they were killed
 * before shutdown(): those older than any test's time limit that no process
 * has as its root any more (a run whose systemd still lives is left alone).
 */
const STALE_AFTER_MS = 20 * 60_000;

function removeStaleRuns(): void {
  const roots = new Set<string>();
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      roots.add(readlinkSync(`/proc/${pid}/root`));
    } catch { /* gone, or not ours to read */ }
  }
  for (const name of readdirSync(CACHE_DIR).filter((entry) => entry.startsWith("run-"))) {
    const dir = join(CACHE_DIR, name);
    // Younger ones may be another run's, still being copied (cp -a keeps the pristine mtime, not the ctime).
    if (!roots.has(dir) && Date.now() - statSync(dir).ctimeMs > STALE_AFTER_MS) rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits for the child of `parent` (unshare's forked child, which becomes systemd) and returns its PID. */
async function childPid(parent: number, exited: Promise<void>): Promise<number> {
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !gone) {
    try {
      const children = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      for (const child of children) {
        if (readFileSync(`/proc/${child}/comm`, "utf8").trim() === "systemd") return child;
      }
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(gone ? "unshare exited before systemd started" : "systemd did not start within 10 s");
}
