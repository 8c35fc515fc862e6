import { describe, expect, it } from "vitest";
import { incompleteBeta, mean, sampleSd, studentTCdf, studentTQuantile, welchInterval } from "../../src/report/stats";

// Two-sided 95 % and 99 % critical values, from a printed Student t table.
const T975: Array<[number, number]> = [
  [1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [6, 2.447], [7, 2.365], [8, 2.306],
  [9, 2.262], [10, 2.228], [15, 2.131], [20, 2.086], [30, 2.042], [60, 2.0], [120, 1.98],
];
const T995: Array<[number, number]> = [[1, 63.657], [2, 9.925], [3, 5.841], [5, 4.032], [10, 3.169], [30, 2.75]];

describe("Student t", () => {
  it.each(T975)("0.975 quantile at df=%d matches the table", (df, table) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(table, 3);
  });
  it.each(T995)("0.995 quantile at df=%d matches the table", (df, table) => {
    expect(studentTQuantile(0.995, df)).toBeCloseTo(table, 3);
  });
  it("approaches the normal quantile for large df and is symmetric", () => {
    expect(studentTQuantile(0.975, 1e9)).toBeCloseTo(1.95996, 4);
    expect(studentTQuantile(0.025, 7)).toBeCloseTo(-2.365, 3);
    expect(studentTQuantile(0.5, 3)).toBe(0);
  });
  it("handles the fractional df Welch produces, between its integer neighbours", () => {
    const q = studentTQuantile(0.975, 2.5);
    expect(q).toBeLessThan(4.303);
    expect(q).toBeGreaterThan(3.182);
    expect(studentTCdf(q, 2.5)).toBeCloseTo(0.975, 9);
  });
  it("df=1 is the Cauchy distribution: CDF(t) = 1/2 + atan(t)/π", () => {
    for (const t of [-3, -0.5, 0, 0.7, 4]) expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
  });
  it("rejects probabilities and df outside their range", () => {
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.9, 0)).toThrow(RangeError);
  });
});

describe("incomplete beta", () => {
  it("has the closed forms I_x(1,1) = x and I_x(a,1) = x^a", () => {
    for (const x of [0.1, 0.5, 0.93]) {
      expect(incompleteBeta(x, 1, 1)).toBeCloseTo(x, 12);
      expect(incompleteBeta(x, 3.5, 1)).toBeCloseTo(x ** 3.5, 12);
    }
    expect(incompleteBeta(0, 2, 3)).toBe(0);
    expect(incompleteBeta(1, 2, 3)).toBe(1);
  });
});

describe("mean and standard deviation", () => {
  it("use the n − 1 denominator", () => {
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
    expect(sampleSd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(sampleSd([3])).toBeNaN();
  });
});

/** Welch by the textbook: se² = s₁²/n₁ + s₂²/n₂, ν = se⁴ / Σ (sᵢ²/nᵢ)²/(nᵢ − 1). */
function textbook(a: number[], b: number[]): { diff: number; se: number; df: number } {
  const v = (xs: number[]): number => {
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  };
  const ma = a.reduce((s, x) => s + x, 0) / a.length;
  const mb = b.reduce((s, x) => s + x, 0) / b.length;
  const qa = v(a) / a.length;
  const qb = v(b) / b.length;
  return { diff: mb - ma, se: Math.sqrt(qa + qb), df: (qa + qb) ** 2 / (qa ** 2 / (a.length - 1) + qb ** 2 / (b.length - 1)) };
}

describe("Welch interval", () => {
  it("equal n and variance: df = 2(n − 1) = 4, t = 2.776 from the table", () => {
    const a = [618.2, 620.0, 621.8];
    const b = [648.2, 650.0, 651.8];
    const ref = textbook(a, b);
    expect(ref.df).toBeCloseTo(4, 9);
    const w = welchInterval(a, b)!;
    expect(w.diff).toBeCloseTo(ref.diff, 9);
    expect(w.se).toBeCloseTo(ref.se, 9);
    expect(w.df).toBeCloseTo(4, 9);
    expect(w.low).toBeCloseTo(ref.diff - 2.776 * ref.se, 2);
    expect(w.high).toBeCloseTo(ref.diff + 2.776 * ref.se, 2);
  });
  it("one side without spread: df collapses to n − 1 of the other = 1, t = 12.706", () => {
    const a = [10, 12];
    const b = [20, 20, 20];
    const ref = textbook(a, b);
    const w = welchInterval(a, b)!;
    expect(ref.df).toBeCloseTo(1, 12);
    expect(w.df).toBeCloseTo(1, 9);
    expect(w.low).toBeCloseTo(9 - 12.706 * ref.se, 2);
    expect(w.high).toBeCloseTo(9 + 12.706 * ref.se, 2);
  });
  it("unequal n and variance: se and df as the textbook computes them", () => {
    const a = [931.2, 918.5, 940.1, 925.7];
    const b = [957.0, 952.3, 966.9];
    const ref = textbook(a, b);
    const w = welchInterval(a, b)!;
    expect(w.se).toBeCloseTo(ref.se, 9);
    expect(w.df).toBeCloseTo(ref.df, 9);
    expect(w.df % 1).not.toBe(0);
    expect(studentTCdf(w.tCritical, ref.df)).toBeCloseTo(0.975, 9);
  });
  it("says nothing below two values per side", () => {
    expect(welchInterval([1], [2, 3])).toBeNull();
    expect(welchInterval([1, 2], [])).toBeNull();
  });
  it("gives an exact difference when neither side varies", () => {
    const w = welchInterval([5, 5], [7, 7])!;
    expect([w.low, w.high, w.diff]).toEqual([2, 2, 2]);
  });
});
