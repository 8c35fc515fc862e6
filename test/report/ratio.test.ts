import { describe, expect, it } from "vitest";
import { DEFAULT_TARGET, judge, precisionReached, targetMet } from "../../src/report/precision";
import { isInterval, ratioInterval, type RatioInterval, type Sample } from "../../src/report/ratio";

// Student's sleep data (Cushny & Peebles, 1905; R's `sleep`): extra hours of sleep of ten
// patients under drug 1 and drug 2. R's documented results:
//   t.test(extra ~ group, data = sleep)               Welch: df = 17.776, 95 % CI of 1 − 2: [−3.3654832, 0.2054832]
//   t.test(extra ~ group, data = sleep, paired = TRUE) paired: df = 9,     95 % CI of 1 − 2: [−2.4598858, −0.7001142]
const DRUG1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const DRUG2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
// As log values: the ratio's interval is exp of the textbook interval of the difference.
const asRatio = (xs: number[], paired: boolean): Sample[] => xs.map((x, i) => (paired ? { value: Math.exp(x), pair: i + 1 } : { value: Math.exp(x) }));

function interval(off: Sample[], on: Sample[]): RatioInterval {
  const r = ratioInterval(off, on);
  if (!isInterval(r)) throw new Error("expected an interval");
  return r;
}

describe("the on/off ratio interval on the log scale, against textbook values", () => {
  it("Welch on the logs: R's t.test on the sleep data", () => {
    const r = interval(asRatio(DRUG1, false), asRatio(DRUG2, false));
    expect(r.method).toBe("welch");
    expect(r.df).toBeCloseTo(17.776, 3);
    expect(Math.log(r.ratio)).toBeCloseTo(1.58, 9);
    expect(Math.log(r.low)).toBeCloseTo(-0.2054832, 6);
    expect(Math.log(r.high)).toBeCloseTo(3.3654832, 6);
    expect([r.nOff, r.nOn, r.pairs]).toEqual([10, 10, null]);
  });
  it("paired: a one-sample t on the per-pair log ratios, R's paired t.test", () => {
    const r = interval(asRatio(DRUG1, true), asRatio(DRUG2, true));
    expect(r.method).toBe("paired");
    expect(r.df).toBe(9);
    expect(Math.log(r.low)).toBeCloseTo(0.7001142, 6);
    expect(Math.log(r.high)).toBeCloseTo(2.4598858, 6);
    expect(r.pairs).toBe(10);
  });
  it("is symmetric on the log scale: ratio ÷ e^h .. ratio × e^h", () => {
    const r = interval(asRatio(DRUG1, false), asRatio(DRUG2, false));
    expect(r.ratio / r.low).toBeCloseTo(Math.exp(r.halfWidth), 9);
    expect(r.high / r.ratio).toBeCloseTo(Math.exp(r.halfWidth), 9);
    expect(precisionReached(r)).toBeCloseTo(Math.expm1(r.halfWidth), 12);
  });
  it("uses only complete pairs, averaging repetitions within a pair", () => {
    const off: Sample[] = [{ value: 100, pair: 1 }, { value: 100, pair: 2 }, { value: 100, pair: 3 }, { value: 400, pair: 4 }];
    const on: Sample[] = [{ value: 110, pair: 1 }, { value: 121, pair: 1 }, { value: 120, pair: 2 }, { value: 130, pair: 3 }];
    const r = interval(off, on);
    const d = [Math.log(Math.sqrt(110 * 121) / 100), Math.log(1.2), Math.log(1.3)];
    expect(Math.log(r.ratio)).toBeCloseTo(d.reduce((a, b) => a + b) / 3, 12);
    expect([r.pairs, r.nOff, r.nOn]).toEqual([3, 3, 4]);
  });
  it("falls back to Welch when some value has no pair", () => {
    expect(ratioInterval([{ value: 1, pair: 1 }, { value: 2 }], [{ value: 2, pair: 1 }, { value: 3, pair: 2 }]).method).toBe("welch");
  });
  it("gives no interval below two values per arm, or two complete pairs", () => {
    const one = ratioInterval([{ value: 100 }], [{ value: 300 }, { value: 310 }]);
    expect(isInterval(one)).toBe(false);
    expect(one.ratio).toBeCloseTo(Math.sqrt(300 * 310) / 100, 9);
    expect(isInterval(ratioInterval([{ value: 1, pair: 1 }, { value: 1, pair: 2 }], [{ value: 2, pair: 1 }, { value: 2, pair: 3 }]))).toBe(false);
  });
});

describe("judging a ratio against the precision target", () => {
  const ratio = (low: number, high: number): RatioInterval => {
    const h = Math.log(high / low) / 2;
    return { method: "welch", ratio: Math.sqrt(low * high), low, high, halfWidth: h, df: 10, confidence: 0.95, nOff: 5, nOn: 5, pairs: null };
  };
  it("says higher or lower only when the interval, as shown to three digits, excludes 1", () => {
    expect(judge(ratio(1.02, 1.3)).kind).toBe("higher");
    expect(judge(ratio(0.7, 0.98)).kind).toBe("lower");
    // 0.9996 prints as 1.000: the row must not be called significant on a bound it shows as 1.
    expect(judge(ratio(0.95, 0.9996)).kind).toBe("no-difference");
  });
  it("says no difference only within the target, inconclusive with the precision reached otherwise", () => {
    expect(judge(ratio(0.95, 1.04))).toMatchObject({ kind: "no-difference" });
    const wide = judge(ratio(0.8, 1.3));
    expect(wide.kind).toBe("inconclusive");
    expect(wide.kind === "inconclusive" && wide.reached).toBeCloseTo(Math.sqrt(1.3 / 0.8) - 1, 12);
  });
  it("meets the 10 % target exactly at ×/÷ 1.10", () => {
    expect(targetMet(ratio(1 / 1.1, 1.1), DEFAULT_TARGET)).toBe(true);
    expect(targetMet(ratio(1 / 1.102, 1.102), DEFAULT_TARGET)).toBe(false);
  });
  it("never claims a difference from one value per arm", () => {
    expect(judge(ratioInterval([{ value: 100 }], [{ value: 1000 }]))).toEqual({ kind: "n-too-small", nOff: 1, nOn: 1, pairs: null });
  });
});
