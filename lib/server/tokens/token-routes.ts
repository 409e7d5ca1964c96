/**
 * Enrollment tokens on the relay's control port, for the dashboard and for
 * `petit server token create|revoke|rotate`: list, create, revoke, rotate.
 * Through here petit-serverd is the one writer of the token files.
 * @module
 */
import { controlError, type ControlRoutes } from "../../daemon/control-server.ts";
import { MAIN_TOKEN_ID, parseDuration, type TokenInfo } from "./tokens.ts";

/** What the routes change: this relay's TokenStore, or the tokens relays share through their store (store/pg-tokens.ts). */
export interface TokenAdmin {
  list(): TokenInfo[];
  create(options: { label?: string; expiresIn?: number; uses?: number }): { id: string; token: string } | Promise<{ id: string; token: string }>;
  revoke(id: string): boolean | Promise<boolean>;
  rotate(): string | Promise<string>;
}

/** Returns the token routes over `tokens`; `log` records each change. */
export function tokenRoutes(tokens: TokenAdmin, log: (line: string) => void): ControlRoutes {
  return {
    "GET /v1/tokens": () => tokens.list(),
    "POST /v1/tokens": async ({ body }) => {
      const { label, expires, uses, ...rest } = (body ?? {}) as { label?: unknown; expires?: unknown; uses?: unknown };
      const extra = Object.keys(rest);
      if (extra.length) throw controlError(400, `unknown field "${extra[0].slice(0, 40)}" (expected label, expires, uses)`);
      if (label !== undefined && (typeof label !== "string" || label.length > 100 || /[\x00-\x1f]/.test(label))) {
        throw controlError(400, "label must be text of at most 100 characters");
      }
      const expiresIn = expires === undefined || expires === "" ? undefined : typeof expires === "string" ? parseDuration(expires) : undefined;
      if (expires !== undefined && expires !== "" && !expiresIn) throw controlError(400, `expires must look like 30m, 12h or 7d, got ${JSON.stringify(expires)}`);
      if (uses !== undefined && (!Number.isInteger(uses) || (uses as number) < 1)) throw controlError(400, `uses must be a whole number ≥ 1, got ${JSON.stringify(uses)}`);
      const created = await tokens.create({ label: label as string | undefined, expiresIn, uses: uses as number | undefined });
      log(`enrollment token ${created.id} created from the control port${label ? ` (${JSON.stringify(label)})` : ""}`);
      return { ...tokens.list().find((t) => t.id === created.id), token: created.token };
    },
    "POST /v1/tokens/rotate": async () => {
      const token = await tokens.rotate();
      log("main enrollment token rotated from the control port");
      return { id: MAIN_TOKEN_ID, token };
    },
    "POST /v1/tokens/:id/revoke": async ({ params }) => {
      if (params.id === MAIN_TOKEN_ID) throw controlError(400, 'the main token cannot be revoked; run "petit server token rotate" to replace it');
      if (!(await tokens.revoke(params.id))) throw controlError(404, `no token "${params.id}"`);
      log(`enrollment token ${params.id} revoked from the control port`);
      return { id: params.id, revoked: true };
    },
  };
}
