import { isInterval, type RatioInterval, type TooFew } from "./ratio";

/**
 * How precisely an on/off ratio must be known before the report says "no difference".
 *
 * Definition: with the 95 % interval of the ratio r = exp(d) being exp(d ± h) (h from the log
 * scale, see ratio.ts), the precision reached is p = e^h − 1: the interval is r ÷ (1 + p) ..
 * r × (1 + p). The target is met when p ≤ `relative` (default 0.10: the interval lies within
 * ×/÷ 1.10 of the estimate). For small h, p ≈ h ≈ the half-width in % of the off arm's
 * (geometric) mean, the usual "±10 % of the off mean"; unlike that, it is symmetric for a ratio.
 */
export interface PrecisionTarget {
  readonly relative: number;
}

export const DEFAULT_TARGET: PrecisionTarget = { relative: 0.1 };

/** Digits the report shows of a ratio and its bounds; significance is decided on these. */
export const RATIO_DIGITS = 3;
/** Digits of a precision in percent. */
export const PRECISION_DIGITS = 1;

export function shown(v: number, digits: number): number {
  // toFixed rounds as it prints, so the decision and the text agree; +0 for -0.
  return Number(v.toFixed(digits)) + 0;
}

/** p = e^h − 1, as a fraction. */
export function precisionReached(r: RatioInterval): number {
  return Math.expm1(r.halfWidth);
}

/** The target is met on the precision as shown (in % with PRECISION_DIGITS). */
export function targetMet(r: RatioInterval, target: PrecisionTarget): boolean {
  return shown(precisionReached(r) * 100, PRECISION_DIGITS) <= shown(target.relative * 100, PRECISION_DIGITS);
}

/**
 * What a row's samples say:
 * - `higher` / `lower`: the interval, as shown, lies wholly above / below 1 (significant);
 * - `no-difference`: it contains 1 and the target is met (whatever USO does, it is within ×/÷ 1 + target);
 * - `inconclusive`: it contains 1 and is wider than the target;
 * - `n-too-small`: an arm has fewer than two values (or fewer than two complete pairs), so there
 *   is no variance estimate: never a claim of significance, however far apart the values are.
 */
export type Answer =
  | { readonly kind: "higher" | "lower" | "no-difference" | "inconclusive"; readonly reached: number }
  | { readonly kind: "n-too-small"; readonly nOff: number; readonly nOn: number; readonly pairs: number | null };

export function judge(r: RatioInterval | TooFew, target: PrecisionTarget = DEFAULT_TARGET): Answer {
  if (!isInterval(r)) return { kind: "n-too-small", nOff: r.nOff, nOn: r.nOn, pairs: r.pairs };
  const reached = precisionReached(r);
  if (shown(r.low, RATIO_DIGITS) > 1) return { kind: "higher", reached };
  if (shown(r.high, RATIO_DIGITS) < 1) return { kind: "lower", reached };
  return { kind: targetMet(r, target) ? "no-difference" : "inconclusive", reached };
}

export function fmtPrecision(reached: number): string {
  return `±${(reached * 100).toFixed(PRECISION_DIGITS)} %`;
}
