import { describe, expect, it } from "vitest";
import { parseIperf3ServerOutput } from "../../src/results/benchmarkServer";

describe("parseIperf3ServerOutput", () => {
  it("reads the last line the iperf3-server step printed", () => {
    const out = 'noise\n{"pid":42,"address":"10.0.0.1","port":12345,"version":"iperf 3.12 (cJSON 1.7.15)","manager":"daemon"}\n';
    expect(parseIperf3ServerOutput(out)).toEqual({ pid: 42, address: "10.0.0.1", port: 12345, version: "iperf 3.12 (cJSON 1.7.15)", manager: "daemon" });
  });
  it("says what is wrong with output it cannot use", () => {
    expect(() => parseIperf3ServerOutput("")).toThrow(/not JSON/);
    expect(() => parseIperf3ServerOutput('{"pid":"42"}')).toThrow(/lacks pid/);
    expect(() => parseIperf3ServerOutput('{"pid":1,"address":"a","port":1,"version":"v","manager":"init"}')).toThrow(/manager/);
  });
});
