/**
 * Token changes while petit-serverd is down: with a relay alone they go to
 * its token files; with a shared store they must go through a running relay,
 * or the next start would undo them (the files mirror the store).
 * @module
 */
import { UsageError } from "clipanion";
import type { ServerConfig } from "../../../config/schema.ts";

/** Throws a UsageError naming `what` when `config` shares a store: the change needs a running relay. */
export function refuseOfflineSharedChange(config: ServerConfig, what: string): void {
  if (!config.store) return;
  throw new UsageError(
    `Cannot ${what} while this relay is down: its enrollment tokens are shared through the store, and its token files only mirror it. ` +
      'Run "petit server up" first, or run this command on another relay sharing the store.',
  );
}
