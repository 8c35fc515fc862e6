import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { expectGolden } from "../../../test/support/golden";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import type { Step } from "../step";
import { iperf3ServerStep } from "./step";

const network = { name: "network" } as Step;
const hostFirewall = { name: "host-firewall" } as Step;

describe("the iperf3-server step", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: create and delete match their golden files and are shellcheck-clean`, () => {
      const step = iperf3ServerStep(cfg, { network, hostFirewall });
      expectGolden(`iperf3-server/${cfg.stack}/create.sh`, step.create);
      expectGolden(`iperf3-server/${cfg.stack}/delete.sh`, step.delete!);
      expect(shellcheck(step.create, "bash")).toEqual([]);
      expect(shellcheck(step.delete!, "bash")).toEqual([]);
    });
  }

  it("binds a hostile binary name as one quoted word", () => {
    const cfg = everyStack()[0]!;
    const hostile = "x$(touch /tmp/pwned)';`id`\n$PORT";
    const step = iperf3ServerStep({ ...cfg, iperf3: { ...cfg.iperf3, binary: hostile } }, { network, hostFirewall });
    expect(boundValue(step.create, "IPERF3")).toBe(hostile);
    expect(shellcheck(step.create, "bash")).toEqual([]);
  });

  it("reads the output recorded from a real run", () => {
    const cfg = everyStack().find((c) => c.stack === "sandbox-uso-on")!;
    const recorded = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", "sandbox-uso-on", "iperf3-server.out"), "utf8");
    const parsed = iperf3ServerStep(cfg, { network, hostFirewall }).parse(recorded);
    expect(parsed).toEqual(JSON.parse(recorded));
    expect(parsed).toMatchObject({ address: "10.77.0.1", port: 12345, version: expect.stringMatching(/^iperf 3\./), manager: "daemon" });
  });

  it("names the step when its stdout is not its JSON", () => {
    const step = iperf3ServerStep(everyStack()[0]!, { network, hostFirewall });
    expect(() => step.parse("iperf3 server starting\n")).toThrow(/step iperf3-server printed no JSON document/);
    expect(() => step.parse('{"pid":"x"}')).toThrow(/step iperf3-server printed unexpected JSON \(pid:/);
  });
});
