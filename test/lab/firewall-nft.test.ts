import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { validateLab } from "../../src/config/validate";
import { hostReadinessStep } from "../../src/plan/host-readiness/step";
import { canUseNamespaces, Namespace } from "../../src/sandbox/netns";
import { transportStub } from "../support/transportStub";

// Real nftables in a network namespace of the test's own: a host without firewalld whose input
// chains drop or reject is named in host-readiness's output (firewall-lib.sh's
// nft_rejecting_chains), and one whose rules accept is not. The function is run from the
// rendered host-readiness script, as the host would run it.

const ns = canUseNamespaces();
const nft = spawnSync("nft", ["--version"]).status === 0;
const skip = !ns.ok ? ns.reason : nft ? null : "nft is not installed";
if (skip !== null) console.warn(`skipping nftables firewall tests: ${skip}`);

const cfg = validateLab("t", {
  libvirt: { domainType: "qemu" },
  network: { mode: "dedicated", name: "lab", bridge: "labbr0", cidr: "10.77.0.0/24" },
  guest: { os: "linux", name: "g1", baseImage: "/images/base.qcow2", kernel: "/images/vmlinuz", machineType: "q35" },
});
/** host-readiness's preamble and libraries, then the one function, instead of its body. */
function rejectingChains(host: Namespace): string[] {
  const script = hostReadinessStep(cfg, transportStub("agent")).create;
  const upToBody = script.slice(0, script.indexOf("missing=()"));
  return host.bash(`${upToBody}\nnft_rejecting_chains`).split("\n").filter(Boolean);
}

describe.skipIf(skip !== null)("host-readiness on a host whose nftables input chains reject", () => {
  let host: Namespace;
  beforeEach(() => void (host = new Namespace("olnft")));
  afterEach(() => host.remove());

  it("names nothing when no input chain drops or rejects", () => {
    host.exec(["nft", "add table inet t; add chain inet t input { type filter hook input priority 0; policy accept; }; add rule inet t input tcp dport 22 accept"]);
    expect(rejectingChains(host)).toEqual([]);
  });

  it("names an input chain that rejects, one that drops by policy, and not a forward chain that drops", () => {
    host.exec(["nft", [
      "add table inet filter",
      "add chain inet filter input { type filter hook input priority 0; policy accept; }",
      "add rule inet filter input ct state established accept",
      "add rule inet filter input reject with icmpx admin-prohibited",
      "add table ip strict",
      "add chain ip strict incoming { type filter hook input priority 10; policy drop; }",
      "add chain ip strict passing { type filter hook forward priority 0; policy drop; }",
    ].join("; ")]);
    expect(rejectingChains(host)).toEqual(["inet filter input", "ip strict incoming"]);
  });
});
