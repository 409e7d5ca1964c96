/**
 * What `petit service install` and `petit service uninstall` share: which
 * unit, in which folder.
 * @module
 */
import { Option } from "clipanion";
import { join } from "node:path";
import { defaultUnitDir, systemctlName } from "../../service/systemd.ts";
import { unitFileName, type Role, type Scope } from "../../service/unit.ts";
import { PetitCommand } from "../base.ts";

/** Base class of the `petit service` commands. */
export abstract class ServiceCommand extends PetitCommand {
  server = Option.Boolean("--server", false, { description: "The relay's unit (petit-server.service) instead of the client's (petit.service)" });
  user = Option.Boolean("--user", false, { description: "A unit of your own (systemctl --user, ~/.config/systemd/user) instead of a system one" });
  // For tests: a folder systemd does not read, so systemctl is never run.
  unitDir = Option.String("--unit-dir", { hidden: true });

  get role(): Role {
    return this.server ? "server" : "client";
  }

  get scope(): Scope {
    return this.user ? "user" : "system";
  }

  get unitName(): string {
    return unitFileName(this.role);
  }

  get unitPath(): string {
    return join(this.unitDir ?? defaultUnitDir(this.scope), this.unitName);
  }

  /** `systemctl` or `systemctl --user`, for messages. */
  get systemctlName(): string {
    return systemctlName(this.scope);
  }

  /** This command's role and scope flags, to repeat in hints. */
  get flags(): string {
    return `${this.server ? " --server" : ""}${this.user ? " --user" : ""}`;
  }
}
