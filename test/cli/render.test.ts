import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { plural } from "../../src/cli/plural";
import { hostLocation, renderSummary } from "../../src/cli/renderSummary";
import { listStacks, loadStack } from "../../src/config/stackFile";
import { SecretValue } from "../../src/config/secret";
import { validateLab } from "../../src/config/validate";
import { planLab } from "../../src/plan/lab";
import { expectGolden } from "../support/golden";

const ROOT = path.resolve(__dirname, "..", "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-render-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function render(stack: string, out: string): Promise<{ code: number; out: string[]; err: string }> {
  const lines: string[] = [];
  const err: string[] = [];
  const code = await main(["node", "offload-lab", "--project", ROOT, "render", "--stack", stack, "--out", out], { io: { out: (l) => lines.push(l), err: (l) => err.push(l) } });
  return { code, out: lines, err: err.join("\n") };
}

const manifestFiles = (dir: string) => {
  const m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as { steps: { create: string; delete?: string; hostCommand?: string; documents: string[] }[] };
  return ["manifest.json", ...m.steps.flatMap((s) => [s.create, s.delete, s.hostCommand, ...s.documents])].filter((f): f is string => f !== undefined).sort();
};

describe("render's output folder", () => {
  it("replaces an earlier render: a Windows render after a Linux one leaves only its own files, as many as it says", async () => {
    const out = path.join(tmp, "replace");
    expect((await render("linux-uso-on", out)).code).toBe(0);
    const linuxCount = fs.readdirSync(out).length;
    const r = await render("mtu9000-uso-on", out);
    expect(r.code, r.err).toBe(0);
    const files = fs.readdirSync(out).sort();
    expect(files).toEqual(manifestFiles(out));
    expect(r.out[0]).toBe(`mtu9000-uso-on: 10 steps, ${files.length} files in ${out} (replaced ${linuxCount} files of an earlier render of linux-uso-on)`);
    expect(files.some((f) => f.endsWith(".ps1"))).toBe(true);
    expect(files.filter((f) => f.endsWith(".sh")).every((f) => (fs.statSync(path.join(out, f)).mode & 0o777) === 0o755)).toBe(true);
  });

  it("writes into a new folder, or an empty one, and says nothing was replaced", async () => {
    const fresh = path.join(tmp, "new", "deeper");
    expect((await render("linux-uso-on", fresh)).out[0]).toMatch(/^linux-uso-on: 10 steps, \d+ files in \S+$/);
    const empty = path.join(tmp, "empty");
    fs.mkdirSync(empty);
    expect((await render("linux-uso-on", empty)).code).toBe(0);
  });

  it("refuses a folder that is not a render's, touching nothing", async () => {
    const out = path.join(tmp, "mine");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "notes.txt"), "keep me");
    const r = await render("linux-uso-on", out);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`--out ${out}: the folder holds files and no render's manifest.json (notes.txt)\nrender replaces only what it wrote before: give an empty or new folder.`);
    expect(fs.readdirSync(out)).toEqual(["notes.txt"]);
  });

  it("refuses an earlier render with a file of the user's beside it, deleting nothing", async () => {
    const out = path.join(tmp, "mixed");
    await render("linux-uso-on", out);
    fs.writeFileSync(path.join(out, "results.md"), "mine");
    fs.mkdirSync(path.join(out, "sub"));
    const before = fs.readdirSync(out).sort();
    const r = await render("mtu9000-uso-on", out);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--out ${out}: besides an earlier render of linux-uso-on, the folder holds `);
    expect(r.err).toMatch(/results\.md/);
    expect(r.err).toMatch(/sub/);
    expect(fs.readdirSync(out).sort()).toEqual(before);
  });

  it("refuses a file given as --out", async () => {
    const file = path.join(tmp, "a-file");
    fs.writeFileSync(file, "x");
    const r = await render("linux-uso-on", file);
    expect(r).toMatchObject({ code: 2, err: `--out ${file}: is a file; render writes a folder of files` });
    expect(fs.readFileSync(file, "utf8")).toBe("x");
  });

  it("never deletes or writes through what a planted manifest or link points at", async () => {
    const victim = path.join(tmp, "victim.txt");
    fs.writeFileSync(victim, "untouched");
    const out = path.join(tmp, "planted");
    fs.mkdirSync(out);
    const stem = "01-host-readiness.sh";
    // A manifest that names a file outside the folder, and a link named like a file render writes.
    fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify({ stack: "x", steps: [{ create: stem, documents: ["../victim.txt"] }] }));
    fs.symlinkSync(victim, path.join(out, stem));
    expect((await render("linux-uso-on", out)).code).toBe(0);
    expect(fs.readFileSync(victim, "utf8")).toBe("untouched");
    expect(fs.lstatSync(path.join(out, stem)).isSymbolicLink()).toBe(false);
  });
});

describe("the plan render prints", () => {
  it.each(listStacks(ROOT))("%s", async (stack) => {
    const r = await render(stack, path.join(tmp, `summary-${stack}`));
    expect(r.code, r.err).toBe(0);
    expectGolden(`render/${stack}.summary.txt`, r.out.slice(1).join("\n") + "\n");
  });

  it("names where host steps run: this machine, or the ssh command that reaches the host", async () => {
    expect((await render("linux-uso-on", path.join(tmp, "w1"))).out).toContain(
      "  on the KVM host, this machine: host-readiness, network, guest-disk, guest-domain, host-offloads, iperf3-server, benchmark",
    );
    expect((await render("sandbox-uso-on", path.join(tmp, "w2"))).out[2]).toBe(
      "  on the KVM host, ssh root@10.203.77.2: host-readiness, network, guest-disk, guest-domain, host-offloads, iperf3-server, benchmark",
    );
    const host = { connection: "ssh", address: "kvm1.lab", user: "qe", port: 2222, jump: { address: "bastion", port: 2200 } };
    const cfg = validateLab("s", { host, hostSshPrivateKey: new SecretValue("k"), guest: { os: "linux", name: "g", baseImage: "/b" } });
    expect(hostLocation(cfg)).toBe("ssh -p 2222 -J root@bastion:2200 qe@kvm1.lab");
  });

  it("says that adopting a network restarts it and cuts off its guests, and that destroy does it again", async () => {
    const out = (await render("mtu9000-uso-on", path.join(tmp, "w3"))).out;
    expect(out).toContain("  network: adopts network default (bridge virbr0): sets its MTU to 9000, keeping its original definition in its <metadata>, and restarts it, which cuts off every guest running on it until plugged back");
    expect(out).toContain("  network: gives network default its original definition and active state back, restarting it (its running guests are cut off again)");
    // Issue 18: no tap tx-udp-segmentation for a Windows guest, and uso cells up to MTU − 28 only.
    expect(out).toContain("  host-offloads: nothing: hostOffloads asks nothing of the tap or the bridge");
    expect(out).toContain("  benchmark: runs 9 iperf3 cells from the guest to 192.168.122.1:12345, counting the frames and bytes tap0 receives and this host's UDP receive errors, capturing the guest's frames above MTU + 14 on tap0; not planned: uso at 65507 B (above MTU − 28: IP-fragmented, nothing to segment); leaves nothing behind");
    expect(out).toContain("  guest-domain: defines and starts domain win-uso-lab (the host's newest q35 machine type that keeps USO, its NIC on tap tap0 in network default, MTU 9000)");
  });

  it("lists what destroy undoes for every step with a delete script, dependents first", () => {
    for (const stack of listStacks(ROOT)) {
      const cfg = loadStack(ROOT, stack);
      const plan = planLab(cfg);
      const steps = plan.steps;
      const lines = renderSummary(cfg, plan);
      const undone = lines.slice(lines.findIndex((l) => l.startsWith("What destroy undoes")) + 1).map((l) => l.trim().split(":")[0]);
      expect(undone, stack).toEqual(steps.filter((s) => s.delete !== undefined).map((s) => s.name).reverse());
      for (const s of steps) expect(lines.join("\n"), `${stack}: ${s.name}`).toContain(s.name);
    }
  });
});

describe("counts read as counts", () => {
  it("1 file, 2 files, 0 steps", () => {
    expect([plural(1, "file"), plural(2, "file"), plural(0, "step"), plural(1, "variant")]).toEqual(["1 file", "2 files", "0 steps", "1 variant"]);
  });
});
