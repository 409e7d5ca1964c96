/**
 * Reading a visitor-access change from the control port's JSON body. Each
 * field must have its real JSON type: `{"public": "no"}` is a string, and a
 * non-empty string is truthy, so taking it as it comes would make a client
 * public when its owner asked for the opposite.
 * @module
 */
import { controlError } from "../../daemon/control-server.ts";
import type { AccessChange } from "../registry/records.ts";
import { parseNetworks } from "../proxy/visitor-auth.ts";

/** The fields a change may hold, and the JSON type of each. */
const FIELDS = { rotate: "boolean", public: "boolean", allow_from: "array of strings" } as const;

/**
 * Returns `body` as an AccessChange; throws a 400 naming the field and the
 * type expected when a field is unknown, mistyped or not a network.
 * @example parseAccessChange({ public: true }) // → { public: true }
 */
export function parseAccessChange(body: unknown): AccessChange {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw controlError(400, 'body must be a JSON object such as {"public": true}');
  }
  const change = body as Record<string, unknown>;
  for (const [key, value] of Object.entries(change)) {
    const expected = FIELDS[key as keyof typeof FIELDS];
    if (!expected) throw controlError(400, `unknown field "${key.slice(0, 40)}" (expected ${Object.keys(FIELDS).join(", ")})`);
    const ok = expected === "boolean" ? typeof value === "boolean" : Array.isArray(value) && value.every((v) => typeof v === "string");
    if (!ok) throw controlError(400, `"${key}" must be a JSON ${expected}, got ${JSON.stringify(value)?.slice(0, 100)}`);
  }
  if (change.allow_from) {
    try {
      parseNetworks(change.allow_from as string[]);
    } catch (error) {
      throw controlError(400, (error as Error).message);
    }
  }
  return change as AccessChange;
}
