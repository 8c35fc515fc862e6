import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { describeFailure } from "../../src/cli/errors";
import { peerAddressHolder, rootVethOf, SANDBOX_PEER, SandboxHost } from "../../src/sandbox/host";
import { canUseNamespaces, Namespace, run } from "../../src/sandbox/netns";

const usable = canUseNamespaces();
if (!usable.ok) console.log(`sandbox-busy test skipped: ${usable.reason}`);

describe.skipIf(!usable.ok)("a sandbox left behind by a run that died", () => {
  it("stops the next sandbox with a user error that names it, and its advice removes it", () => {
    // What a killed run leaves: the namespace and its veth, the root end holding the address.
    const ns = new Namespace("olsandbox");
    const link = rootVethOf(ns.name);
    try {
      run("ip", ["link", "add", link, "type", "veth", "peer", "name", "uplink", "netns", ns.name]);
      run("ip", ["addr", "add", `${SANDBOX_PEER}/30`, "dev", link]);
      // A process still inside, as a dead run's libvirtd or sshd would be.
      const inside = Number(ns.bash("setsid nohup sleep 600 >/dev/null 2>&1 & echo $!").trim());
      let error: unknown;
      try {
        SandboxHost.start().stop();
      } catch (e) {
        error = e;
      }
      const failure = describeFailure(error, false);
      expect(failure.code).toBe(2);
      expect(failure.lines).toHaveLength(1);
      expect(failure.lines[0]).toContain(`a sandbox is already running: ${SANDBOX_PEER} is on link ${link} (namespace ${ns.name})`);
      const advice = /remove it: (.*)$/.exec(failure.lines[0]!)![1]!;
      execFileSync("bash", ["-c", advice]);
      expect(run("ip", ["netns", "list"])).not.toContain(ns.name);
      // Gone, or a zombie waiting for a reaper that is not ours.
      const state = fs.existsSync(`/proc/${inside}/stat`) ? fs.readFileSync(`/proc/${inside}/stat`, "utf8").split(") ")[1]![0] : "gone";
      expect(["gone", "Z"]).toContain(state);
      expect(peerAddressHolder()).toBeNull();
    } finally {
      ns.remove();
      try { run("ip", ["link", "del", link]); } catch { /* went with the namespace */ }
    }
  });
});
