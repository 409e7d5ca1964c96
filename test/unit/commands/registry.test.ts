import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { commandPathsFor, loadCommandsFor } from "../../../lib/commands/registry.ts";

const ALL = commandPathsFor([]);

test("commandPathsFor() names the one command a plain command line can mean", () => {
  assert.deepEqual(commandPathsFor(["status", "--json"]), ["status"]);
  assert.deepEqual(commandPathsFor(["register", "https://relay.example.com", "--token", "t"]), ["register"]);
  assert.deepEqual(commandPathsFor(["server", "clients"]), ["server clients"]);
  assert.deepEqual(commandPathsFor(["ui"]), ["ui"]);
});

test("commandPathsFor() adds the commands a command runs itself", () => {
  // petit server restart ends with this.cli.run(["server", "up"]).
  assert.deepEqual(commandPathsFor(["server", "restart", "--quiet"]), ["server up", "server restart"]);
});

test("commandPathsFor() keeps every command a shorter path leads to", () => {
  assert.deepEqual(commandPathsFor(["server", "token", "list", "--json"]), ["server token", "server token list"]);
  assert.deepEqual(commandPathsFor(["server", "token"]), ALL.filter((path) => path.startsWith("server token")));
  assert.deepEqual(commandPathsFor(["server"]), ALL.filter((path) => path.startsWith("server ")));
});

test("commandPathsFor() loads every command for help and typos, none for a bare --version", () => {
  assert.equal(ALL.length, 27);
  assert.deepEqual(commandPathsFor(["--help"]), ALL);
  assert.deepEqual(commandPathsFor(["stauts"]), ALL);
  assert.deepEqual(commandPathsFor(["--version"]), []);
  assert.deepEqual(commandPathsFor(["-v"]), []);
  assert.deepEqual(commandPathsFor(["--version", "extra"]), ALL);
});

test("loadCommandsFor() loads classes whose paths are the ones it names", async () => {
  const classes = await loadCommandsFor([]);
  const paths = classes.flatMap((commandClass) => (commandClass.paths ?? []).map((path) => path.join(" ")));
  assert.deepEqual(paths, ALL);
});

test("every command that runs another through this.cli.run is known to the registry", () => {
  // Only the commands a command line names are registered: one run by another must be listed in its entry's runs.
  const folder = join(import.meta.dirname, "../../../lib/commands");
  const running = readdirSync(folder, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && /\bthis\.cli\.run\(/.test(readFileSync(join(folder, file), "utf8")));
  assert.deepEqual(running, ["server/restart.ts"], "add the commands it runs to its entry's runs in lib/commands/registry.ts, and its file here");
});
