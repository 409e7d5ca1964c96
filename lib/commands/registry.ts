/**
 * Which command files a command line needs. Each command's file brings its
 * own modules (the HTTP client, execa, the relay's proxy…), and evaluating
 * all of them costs more start-up time than most commands take to run; so
 * the entry point loads only the files whose path the command line can name:
 * `petit status` never evaluates undici.
 * @module
 */
import type { CommandClass } from "clipanion";

/** A command's path (its words, as typed), how to load its class, and the commands it runs itself through `this.cli.run`. */
interface Entry {
  path: string;
  load: () => Promise<CommandClass>;
  runs?: string[];
}

/** Every petit command, in the order they were always registered in. */
const ENTRIES: readonly Entry[] = [
  { path: "register", load: async () => (await import("./register.ts")).RegisterCommand },
  { path: "up", load: async () => (await import("./up.ts")).UpCommand },
  { path: "down", load: async () => (await import("./down.ts")).DownCommand },
  { path: "status", load: async () => (await import("./status.ts")).StatusCommand },
  { path: "connect", load: async () => (await import("./connect.ts")).ConnectCommand },
  { path: "server init", load: async () => (await import("./server/init.ts")).ServerInitCommand },
  { path: "server token", load: async () => (await import("./server/token.ts")).ServerTokenCommand },
  { path: "server token create", load: async () => (await import("./server/token/create.ts")).ServerTokenCreateCommand },
  { path: "server token list", load: async () => (await import("./server/token/list.ts")).ServerTokenListCommand },
  { path: "server token revoke", load: async () => (await import("./server/token/revoke.ts")).ServerTokenRevokeCommand },
  { path: "server token rotate", load: async () => (await import("./server/token/rotate.ts")).ServerTokenRotateCommand },
  { path: "server up", load: async () => (await import("./server/up.ts")).ServerUpCommand },
  { path: "server down", load: async () => (await import("./server/down.ts")).ServerDownCommand },
  { path: "server restart", load: async () => (await import("./server/restart.ts")).ServerRestartCommand, runs: ["server up"] },
  { path: "server clients", load: async () => (await import("./server/clients.ts")).ServerClientsCommand },
  { path: "server revoke", load: async () => (await import("./server/revoke.ts")).ServerRevokeCommand },
  { path: "server access", load: async () => (await import("./server/access.ts")).ServerAccessCommand },
  { path: "server uninstall-sshd", load: async () => (await import("./server/uninstall-sshd.ts")).ServerUninstallSshdCommand },
  { path: "doctor", load: async () => (await import("./doctor.ts")).DoctorCommand },
  { path: "logs", load: async () => (await import("./logs.ts")).LogsCommand },
  { path: "service install", load: async () => (await import("./service/install.ts")).ServiceInstallCommand },
  { path: "service uninstall", load: async () => (await import("./service/uninstall.ts")).ServiceUninstallCommand },
  { path: "pause", load: async () => (await import("./pause.ts")).PauseCommand },
  { path: "resume", load: async () => (await import("./resume.ts")).ResumeCommand },
  { path: "ui", load: async () => (await import("./ui.ts")).UiCommand },
  { path: "server ui", load: async () => (await import("./server/ui.ts")).ServerUiCommand },
  { path: "version", load: async () => (await import("./version.ts")).VersionCommand },
];

/** The flags clipanion's builtin version command answers to, alone on the line. */
const VERSION_FLAGS = new Set(["--version", "-v"]);

/**
 * Returns the paths of the commands `argv` can name: those whose words agree
 * with its leading words (those before the first option), and those these
 * run themselves. When none does (a typo, `--help`), all of them, so help
 * and "did you mean" see every command; none for a bare `--version`.
 * @example commandPathsFor(["server", "token", "list", "--json"]) // ["server token", "server token list"]
 */
export function commandPathsFor(argv: readonly string[]): string[] {
  if (argv.length === 1 && VERSION_FLAGS.has(argv[0])) return [];
  const end = argv.findIndex((arg) => arg.startsWith("-"));
  const words = end < 0 ? argv : argv.slice(0, end);
  const paths = ENTRIES.map((entry) => entry.path);
  if (words.length === 0) return paths;
  const named = ENTRIES.filter((entry) => entry.path.split(" ").every((word, i) => i >= words.length || word === words[i]));
  if (named.length === 0) return paths;
  const needed = new Set(named.flatMap((entry) => [entry.path, ...(entry.runs ?? [])]));
  return paths.filter((path) => needed.has(path));
}

/** Loads the command classes `argv` can name (see commandPathsFor). */
export function loadCommandsFor(argv: readonly string[]): Promise<CommandClass[]> {
  const paths = new Set(commandPathsFor(argv));
  return Promise.all(ENTRIES.filter((entry) => paths.has(entry.path)).map((entry) => entry.load()));
}
