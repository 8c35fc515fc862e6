/**
 * Small, dependency-free statistics for comparing variants: sample mean and standard deviation,
 * Student's t distribution (through the regularized incomplete beta function), Welch's
 * confidence interval for a difference of means with unequal variances, and the one-sample t
 * interval of a mean.
 */

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** Sample standard deviation (n − 1 denominator); NaN below two values. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  return Math.sqrt(ss / (xs.length - 1));
}

// Lanczos approximation (g = 7, n = 9): about 15 significant digits for positive arguments.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  const t = z + 7.5;
  const a = LANCZOS.reduce((sum, c, i) => (i === 0 ? c : sum + c / (z + i)), 0);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz, Numerical Recipes §6.4). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast only on this side of the mean; use symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` (possibly fractional) degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (0 < p < 1), by bisection on the CDF: monotone, so it cannot diverge. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile probability must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly sd: number;
}

export function summarize(xs: readonly number[]): Summary {
  return { n: xs.length, mean: mean(xs), sd: sampleSd(xs) };
}

export interface WelchInterval {
  /** mean(b) − mean(a). */
  readonly diff: number;
  readonly se: number;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly df: number;
  readonly tCritical: number;
  readonly low: number;
  readonly high: number;
  readonly confidence: number;
}

/**
 * Welch's interval for mean(b) − mean(a). Null when either side has fewer than two values:
 * with one value there is no variance estimate and nothing can be told.
 * When both variances are zero the difference is exact (a zero-width interval).
 */
export function welchInterval(a: readonly number[], b: readonly number[], confidence = 0.95): WelchInterval | null {
  if (a.length < 2 || b.length < 2) return null;
  const va = sampleSd(a) ** 2 / a.length;
  const vb = sampleSd(b) ** 2 / b.length;
  const diff = mean(b) - mean(a);
  const se = Math.sqrt(va + vb);
  if (se === 0) return { diff, se: 0, df: Infinity, tCritical: 0, low: diff, high: diff, confidence };
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const tCritical = studentTQuantile(1 - (1 - confidence) / 2, df);
  return { diff, se, df, tCritical, low: diff - tCritical * se, high: diff + tCritical * se, confidence };
}

export interface MeanInterval {
  readonly low: number;
  readonly high: number;
}

/** The Student t confidence interval of a mean; null below two values (no variance estimate). */
export function meanInterval(xs: readonly number[], confidence = 0.95): MeanInterval | null {
  const i = oneSampleInterval(xs, confidence);
  return i === null ? null : { low: i.low, high: i.high };
}

export interface OneSampleInterval {
  readonly mean: number;
  readonly se: number;
  /** n − 1. */
  readonly df: number;
  readonly tCritical: number;
  readonly low: number;
  readonly high: number;
  readonly confidence: number;
}

/**
 * The one-sample t interval of a mean (for paired differences: the mean difference). Null below
 * two values; a zero-width interval when the values do not vary.
 */
export function oneSampleInterval(xs: readonly number[], confidence = 0.95): OneSampleInterval | null {
  if (xs.length < 2) return null;
  const m = mean(xs);
  const se = sampleSd(xs) / Math.sqrt(xs.length);
  const df = xs.length - 1;
  if (se === 0) return { mean: m, se: 0, df, tCritical: 0, low: m, high: m, confidence };
  const tCritical = studentTQuantile(1 - (1 - confidence) / 2, df);
  return { mean: m, se, df, tCritical, low: m - tCritical * se, high: m + tCritical * se, confidence };
}
