import { describe, expect, it } from "vitest";
import { SecretValue } from "../../config/secret";
import { validateLab } from "../../config/validate";
import { expectGolden } from "../../../test/support/golden";
import { shellcheck } from "../../../test/support/shellcheck";
import { everyStack } from "../../../test/support/stacks";
import { guestStepCommand } from "../guestStep";
import { agentTransport, netnsTransport, sshTransport, transportFor, type Transport } from ".";

const TRANSPORTS: [string, Transport][] = [
  ["agent-linux", agentTransport({ uri: "qemu:///system", domain: "linux-uso-lab", os: "linux", timeoutSeconds: 300 })],
  ["agent-windows", agentTransport({ uri: "qemu:///system", domain: "win-uso-lab", os: "windows", timeoutSeconds: 300 })],
  ["ssh-linux", sshTransport({ address: "10.77.0.10", user: "root", port: 22, os: "linux", timeoutSeconds: 300 })],
  ["ssh-windows", sshTransport({ address: "10.77.0.10", user: "lab", port: 22, os: "windows", timeoutSeconds: 300 })],
  ["netns", netnsTransport("olg")],
];

describe("the transports' bash", () => {
  for (const [name, t] of TRANSPORTS) {
    it(`${name}: matches its golden file and is shellcheck-clean`, () => {
      expectGolden(`transport/${name}.sh`, t.functionDefinition);
      expect(shellcheck(guestStepCommand(t, "true\n"), "bash")).toEqual([]);
    });
  }
});

describe("transportFor, the one place that picks the transport from guest.access", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: guest.access ${cfg.guest.access}`, () => {
      expect(transportFor(cfg).kind).toBe(cfg.guest.access);
    });
  }

  it("gives an SSH guest the key as the transport's secret, and an agent guest none", () => {
    const base = { guest: { os: "linux", name: "g1", baseImage: "/i.qcow2" } } as const;
    const agent = transportFor(validateLab("t", base));
    expect(agent.secretEnv).toEqual({});
    const ssh = transportFor(validateLab("t", {
      network: { mode: "dedicated", cidr: "10.77.0.0/24", guestAddress: "10.77.0.10" },
      guest: { ...base.guest, access: "ssh" },
      guestSshPrivateKey: new SecretValue("offload-lab:guestSshPrivateKey"),
    }));
    expect(ssh.secretEnv).toEqual({ OFFLOAD_LAB_GUEST_SSH_KEY: "guestSshPrivateKey" });
  });
});
