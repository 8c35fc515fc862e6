import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigProblem } from "../../src/config/errors";
import { validateLab } from "../../src/config/validate";

// In-lab arms (matrix.usoArms) and a sweep's round (benchmark.round): the settings and the rules
// across them (src/config/rules.ts armsOwnUso, roundRowsInMatrix).
const linuxGuest = { os: "linux", name: "g1", baseImage: "/images/base.qcow2" };
const matrix = { payloads: [1472, 65507], senders: ["plain", "gso"], bitrates: ["0", "100M"], usoArms: true };

function problems(raw: Record<string, unknown>): ConfigProblem[] {
  try {
    validateLab("t", raw);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

describe("matrix.usoArms", () => {
  it("is off by default, and names the variant mtuNNNN-uso-arms when on", () => {
    expect(validateLab("t", { guest: linuxGuest }).matrix.usoArms).toBe(false);
    expect(validateLab("t", { guest: linuxGuest, network: { mtu: 9000 }, matrix: { ...matrix, payloads: [8972] } }).variant).toBe("mtu9000-uso-arms");
  });

  it("refuses a guestOffloads.uso beside it: the benchmark owns the guest's USO", () => {
    const p = problems({ guest: linuxGuest, matrix, guestOffloads: { uso: { ipv4: true } } });
    expect(p.map((x) => x.key)).toEqual(["offload-lab:guestOffloads.uso"]);
    expect(p[0]!.allowed).toMatch(/must be unset when matrix.usoArms is true/);
    expect(problems({ guest: linuxGuest, matrix })).toEqual([]);
  });
});

describe("benchmark.round", () => {
  const round = (rows: unknown[]) => ({ guest: linuxGuest, matrix, benchmark: { round: { firstRepetition: 3, rows } } });

  it("takes rows the matrix plans", () => {
    expect(problems(round([{ payload: 1472, sender: "gso", bitrate: "0", repetitions: 4 }, { payload: 65507, sender: "plain", bitrate: "100M", repetitions: 1 }]))).toEqual([]);
  });

  it("refuses a row outside the matrix, a segmenting sender above MTU − 28, and a repeated row, naming each", () => {
    const p = problems(round([
      { payload: 1000, sender: "plain", bitrate: "0", repetitions: 1 },
      { payload: 65507, sender: "gso", bitrate: "0", repetitions: 1 },
      { payload: 1472, sender: "plain", bitrate: "1G", repetitions: 1 },
      { payload: 1472, sender: "gso", bitrate: "0", repetitions: 1 },
      { payload: 1472, sender: "gso", bitrate: "0", repetitions: 2 },
    ]));
    expect(p.map((x) => x.key)).toEqual([
      "offload-lab:benchmark.round.rows.0.payload",
      "offload-lab:benchmark.round.rows.1.sender",
      "offload-lab:benchmark.round.rows.2.bitrate",
      "offload-lab:benchmark.round.rows.4",
    ]);
    expect(p[1]!.allowed).toMatch(/a segmenting sender runs only up to MTU − 28 = 1472/);
  });
});
