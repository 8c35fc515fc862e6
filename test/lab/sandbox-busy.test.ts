import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { describeFailure } from "../../src/cli/errors";
import { isRunning } from "../../src/engine/owner";
import { addressHolder, rootVethOf, sandboxAddresses } from "../../src/sandbox/addresses";
import { SandboxHost } from "../../src/sandbox/host";
import { canUseNamespaces, Namespace, run } from "../../src/sandbox/netns";

const usable = canUseNamespaces();
if (!usable.ok) console.log(`sandbox ownership test skipped: ${usable.reason}`);

interface Held {
  readonly namespace: string;
  readonly libvirtdDir: string;
  readonly libvirtd: number;
  readonly sshd: number;
}

/** Another process that takes sandbox `slot` and holds it until killed, as a main job would. */
function holder(slot: number): Promise<{ pid: number; held: Held }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "tsx/cjs", path.join(__dirname, "..", "support", "holdSandbox.ts"), String(slot)], {
      detached: true,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      const m = /^READY (.*)$/m.exec(out);
      if (m) resolve({ pid: child.pid!, held: JSON.parse(m[1]!) as Held });
    });
    child.on("exit", (code) => reject(new Error(`holder exited ${code}: ${out}`)));
  });
}

const gone = (pid: number) => !isRunning({ pid, startTicks: null });
const namespaces = () => run("ip", ["netns", "list"]);

describe.skipIf(!usable.ok)("a sandbox slot is owned by the process that runs it", () => {
  it("refuses while its owner lives; once the owner is killed, the next start removes what it left and says so", async () => {
    const { pid, held } = await holder(0);
    let killed = false;
    try {
      const busy = await SandboxHost.start(0).then((h) => h.stop(), (e: unknown) => e);
      const failure = describeFailure(busy, false);
      expect(failure.code).toBe(2);
      expect(failure.lines).toHaveLength(1);
      expect(failure.lines[0]).toMatch(new RegExp(`^sandbox slot 0 is in use by a running offload-lab: pid ${pid} \\(.*holdSandbox\\.ts 0\\), since .*; wait for it to end, or stop it \\(kill ${pid}\\)`));

      // SIGKILL, as a closed terminal or `kill -9` of the main job: nothing of it runs any cleanup.
      process.kill(-pid, "SIGKILL");
      killed = true;
      const said: string[] = [];
      const next = await SandboxHost.start(0, (l) => said.push(l));
      try {
        expect(said).toHaveLength(1);
        expect(said[0]).toMatch(new RegExp(`^sandbox slot 0: its last owner \\(pid ${pid} .*\\) is no longer running; removed what it left: `));
        expect(said[0]).toContain(`libvirtd ${held.libvirtd}`);
        expect(said[0]).toContain(`sshd ${held.sshd}`);
        expect(said[0]).toContain(`veth ${rootVethOf(held.namespace)}; namespace ${held.namespace}; folder ${held.libvirtdDir}`);
        expect(gone(held.libvirtd) && gone(held.sshd)).toBe(true);
        expect(namespaces()).not.toContain(held.namespace);
        expect(fs.existsSync(held.libvirtdDir)).toBe(false);
        expect(addressHolder(sandboxAddresses(0).peer)).toBe(rootVethOf(next.ns.name));
      } finally {
        next.stop();
      }
      expect(addressHolder(sandboxAddresses(0).peer)).toBeNull();
      expect(namespaces()).not.toMatch(/olsandbox/);
    } finally {
      if (!killed) process.kill(-pid, "SIGKILL");
    }
  }, 180_000);

  it("a sandbox's veth holding the slot's address with no owner's record is removed too; any other holder is refused", async () => {
    // What a version before owned slots left: the namespace and its veth, the root end holding the address.
    const ns = new Namespace("olsandbox");
    const link = rootVethOf(ns.name);
    const { peer } = sandboxAddresses(1);
    run("ip", ["link", "add", link, "type", "veth", "peer", "name", "uplink", "netns", ns.name]);
    run("ip", ["addr", "add", `${peer}/30`, "dev", link]);
    const inside = Number(ns.bash("setsid nohup sleep 600 >/dev/null 2>&1 & echo $!").trim());
    const said: string[] = [];
    const host = await SandboxHost.start(1, (l) => said.push(l));
    host.stop();
    expect(said).toEqual([`sandbox slot 1: ${peer} was held by a sandbox no run owns; removed processes sleep ${inside}; veth ${link}; namespace ${ns.name}`]);
    expect(gone(inside)).toBe(true);

    const other = "oltestholder";
    run("ip", ["link", "add", other, "type", "veth", "peer", "name", `${other}p`]);
    try {
      run("ip", ["addr", "add", `${sandboxAddresses(2).peer}/30`, "dev", other]);
      const refused = await SandboxHost.start(2).then((h) => h.stop(), (e: unknown) => e);
      expect(describeFailure(refused, false)).toEqual({
        code: 2,
        lines: [`sandbox slot 2: ${sandboxAddresses(2).peer} is on link ${other}, which is not a sandbox's; remove that address or use another slot`],
      });
      expect(run("ip", ["link", "show", other])).toContain(other);
    } finally {
      run("ip", ["link", "del", other]);
    }
  }, 120_000);
});
