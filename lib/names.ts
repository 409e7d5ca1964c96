/**
 * Client names: DNS labels, so `<name>.<domain>` is a valid host name.
 * @module
 */

/**
 * Returns `name` lower-cased when it is a valid client name, else throws
 * with what a valid one looks like. All-digit names are refused: they would
 * collide with IDs.
 */
export function validateName(name: unknown): string {
  if (typeof name !== "string") throw new Error("name must be a string");
  // Checked before lower-casing: "\u212A" (Kelvin sign) lower-cases to an ASCII "k".
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(name) || /^\d+$/.test(name)) {
    throw new Error(
      `name "${name.slice(0, 80)}" is not a valid DNS label: use 1-63 letters, digits and inner hyphens, not all digits`,
    );
  }
  // RFC 5891 keeps "--" in the 3rd and 4th places for encoded international
  // names: a browser shows "xn--pple-43d" as "аpple" (Cyrillic а), a look-alike of another client.
  if (name.slice(2, 4) === "--") {
    throw new Error(`name "${name}" has "--" as its 3rd and 4th characters, which DNS keeps for encoded international names (xn--…, shown by browsers in other letters): choose another name`);
  }
  return name.toLowerCase();
}
