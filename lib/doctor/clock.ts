/**
 * Clock skew between this machine and the relay, from the Date header of
 * the relay's answer. Registration proofs carry a timestamp the relay
 * accepts within PROOF_MAX_SKEW_SECONDS, so a larger skew breaks `petit register`.
 * @module
 */
import { PROOF_MAX_SKEW_SECONDS } from "../constants.ts";
import { fail, ok, warn, type Finding } from "./check.ts";

/** Skew above which the doctor warns, in seconds: well before registrations break. */
export const CLOCK_WARN_SECONDS = 60;

/**
 * Returns how many seconds this machine's clock is ahead of the relay's
 * (negative: behind). `date` is the relay's HTTP Date header, whole seconds
 * truncated, so its middle (+0.5 s) is compared with the middle of the request.
 */
export function clockSkewSeconds(date: string, sentAt: number, receivedAt: number): number | undefined {
  const remote = Date.parse(date);
  if (Number.isNaN(remote)) return undefined;
  return ((sentAt + receivedAt) / 2 - (remote + 500)) / 1000;
}

/** Judges a skew: ok up to 60 s, warn up to 300 s, fail beyond (registration proofs are then refused). */
export function judgeClockSkew(skewSeconds: number): Finding {
  const size = Math.abs(Math.round(skewSeconds));
  const words = size <= 1 ? "within 1 s of the relay's" : `${size} s ${skewSeconds > 0 ? "ahead of" : "behind"} the relay's`;
  const fix = "sync both clocks with NTP: timedatectl set-ntp true (on this machine and on the relay)";
  if (size > PROOF_MAX_SKEW_SECONDS) {
    return fail(`this machine's clock is ${words}: beyond ${PROOF_MAX_SKEW_SECONDS} s the relay refuses registrations`, fix);
  }
  if (size > CLOCK_WARN_SECONDS) {
    return warn(`this machine's clock is ${words} (registrations fail beyond ${PROOF_MAX_SKEW_SECONDS} s)`, fix);
  }
  return ok(`this machine's clock is ${words}`);
}
