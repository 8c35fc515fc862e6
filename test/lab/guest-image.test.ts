import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canUseNamespaces, Namespace, run } from "../../src/sandbox/netns";
import { ensureGuestImage, GUEST_ADDRESS, GUEST_CMDLINE, type GuestImage } from "./guest-image/image";
import { Libvirtd } from "../../src/sandbox/libvirtd";
import { guestDomainXml, labNetworkXml } from "./guest-image/guestXml";
import { agentCommand, guestExec, waitForAgent, type ExecResult } from "./guest-image/agent";

// Boots the Debian guest image the end-to-end lab uses, under TCG, on a libvirt network
// that exists only inside this test's namespace, and checks what the lab relies on: the
// agent answers, eth0 has 10.77.0.10 and MTU 9000, and jumbo frames reach it unfragmented.
// RECORD_AGENT_FIXTURES=1 saves the agent's raw replies in test/fixtures/agent/recorded.

const env = canUseNamespaces();
const missing = ["libvirtd", "virsh", "qemu-system-x86_64", "qemu-img", "debootstrap"].filter(
  (tool) => !fs.existsSync(`/usr/sbin/${tool}`) && !fs.existsSync(`/usr/bin/${tool}`),
);
const skipReason = !env.ok ? env.reason : missing.length ? `missing ${missing.join(", ")}` : "";
if (skipReason) console.error(`guest-image test skipped: ${skipReason}`);
const hostPing = fs.existsSync("/usr/bin/ping") || fs.existsSync("/bin/ping");
if (!hostPing) console.error("guest-image: no ping on this host (Debian package iputils-ping): host-to-guest ping skipped");

const RECORD_DIR = path.join(__dirname, "..", "fixtures", "agent", "recorded");
const recording = process.env.RECORD_AGENT_FIXTURES === "1";
const AGENT_WAIT_MS = 180_000;

describe.skipIf(skipReason !== "")("Debian guest image under libvirt in a namespace", () => {
  const phases: [string, number][] = [];
  let mark = Date.now();
  const phase = (name: string) => {
    const now = Date.now();
    phases.push([name, (now - mark) / 1000]);
    console.error(`guest-image phase ${name}: ${((now - mark) / 1000).toFixed(1)} s`);
    mark = now;
  };
  const record = (name: string, raw: string) => {
    if (recording) fs.writeFileSync(path.join(RECORD_DIR, name), raw);
  };

  let image: GuestImage;
  let ns: Namespace | undefined;
  let libvirtd: Libvirtd | undefined;
  let work: string;
  let consoleLog: string;
  const network = "ol-guest-image";
  const domain = "ol-guest-image";
  let ping: string;

  beforeAll(async () => {
    image = await ensureGuestImage();
    phase(image.cacheHit ? "image (cache hit)" : "image (built)");
    ns = new Namespace("olgi");
    libvirtd = Libvirtd.start(ns);
    phase("libvirtd");
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ol-guest-image-"));
    consoleLog = path.join(work, "console.log");
    const overlay = path.join(work, "overlay.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", image.baseImage, overlay]);
    fs.writeFileSync(path.join(work, "network.xml"), labNetworkXml(network));
    libvirtd.virsh(["net-define", path.join(work, "network.xml")]);
    libvirtd.virsh(["net-start", network]);
    fs.writeFileSync(
      path.join(work, "domain.xml"),
      guestDomainXml({ name: domain, network, overlay, kernel: image.kernel, initrd: image.initrd, cmdline: GUEST_CMDLINE, consoleLog }),
    );
    libvirtd.virsh(["define", path.join(work, "domain.xml")]);
    libvirtd.virsh(["start", domain]);
    phase("network, overlay, domain");
    try {
      ping = waitForAgent(libvirtd.uri, domain, AGENT_WAIT_MS);
    } catch (e) {
      console.error(`guest console:\n${fs.existsSync(consoleLog) ? fs.readFileSync(consoleLog, "utf8").slice(-4000) : "(none)"}`);
      throw e;
    }
    phase("boot until guest-ping answers");
    if (recording) fs.mkdirSync(RECORD_DIR, { recursive: true });
  }, 900_000);

  afterAll(() => {
    if (libvirtd) {
      for (const args of [["destroy", domain], ["undefine", domain], ["net-destroy", network], ["net-undefine", network]]) {
        try { libvirtd.virsh(args); } catch { /* never created or already gone */ }
      }
      libvirtd.stop();
    }
    ns?.remove();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    phase("teardown");
    console.error(`guest-image phases: ${phases.map(([n, s]) => `${n} ${s.toFixed(1)}s`).join(", ")}`);
  });

  it("rebuilds nothing for the same inputs and copies into any OUTDIR", () => {
    const outdir = path.join(work, `out $(touch pwned) \`touch pwned\` 'q" \\ ;x`);
    const stdout = run("bash", [path.join(__dirname, "guest-image", "build.sh"), outdir], { cwd: work });
    const result = JSON.parse(stdout.trim());
    expect(result).toMatchObject({ cacheHit: true, dir: outdir, baseImage: path.join(outdir, "debian-guest.qcow2") });
    for (const file of ["debian-guest.qcow2", "vmlinuz", "initrd.img"]) {
      expect(fs.statSync(path.join(outdir, file)).size).toBe(fs.statSync(path.join(image.dir, file)).size);
    }
    expect(fs.existsSync(path.join(work, "pwned"))).toBe(false);
  });

  it("answers guest-ping", () => {
    expect(JSON.parse(ping)).toEqual({ return: {} });
    record("guest-ping.json", ping);
  });

  it("gives eth0 the lab address and MTU 9000", () => {
    // DHCP can finish after the agent is up: poll the address, bounded.
    let addr: ExecResult;
    const deadline = Date.now() + 120_000;
    for (;;) {
      addr = guestExec(libvirtd!.uri, domain, "/sbin/ip", ["-j", "addr", "show", "dev", "eth0"]);
      const found = JSON.parse(addr.stdout)[0].addr_info.some((a: { local: string }) => a.local === GUEST_ADDRESS);
      if (found || Date.now() > deadline) break;
      run("sleep", ["1"]);
    }
    const [eth0] = JSON.parse(addr.stdout);
    expect(eth0.mtu).toBe(9000);
    expect(eth0.addr_info).toContainEqual(expect.objectContaining({ family: "inet", local: GUEST_ADDRESS, prefixlen: 24 }));
    phase("eth0 address and MTU");

    const link = guestExec(libvirtd!.uri, domain, "/sbin/ip", ["-j", "link"]);
    expect(link.exitcode).toBe(0);
    expect(JSON.parse(link.stdout)).toContainEqual(expect.objectContaining({ ifname: "eth0", mtu: 9000 }));
    record("guest-exec.json", link.replies[0]);
    record("guest-exec-status-exited-0.json", link.replies[link.replies.length - 1]);
  }, 180_000);

  it("runs ethtool -k eth0 in the guest", () => {
    const features = guestExec(libvirtd!.uri, domain, "/sbin/ethtool", ["-k", "eth0"]);
    expect(features.exitcode).toBe(0);
    expect(features.stdout).toMatch(/^Features for eth0:/);
    expect(features.stdout).toMatch(/^tx-udp-segmentation: (on|off)/m);
    record("guest-exec-status-ethtool-k.json", features.replies[features.replies.length - 1]);
  });

  it("reports a running process, then a non-zero exit with stderr", () => {
    const started = agentCommand(libvirtd!.uri, domain, {
      execute: "guest-exec",
      arguments: { path: "/bin/sh", arg: ["-c", "sleep 2; echo partial; echo 'no such thing' >&2; exit 3"], "capture-output": true },
    });
    const pid = JSON.parse(started).return.pid;
    const running = agentCommand(libvirtd!.uri, domain, { execute: "guest-exec-status", arguments: { pid } });
    expect(JSON.parse(running)).toEqual({ return: { exited: false } });
    let exited: string;
    do {
      run("sleep", ["0.5"]);
      exited = agentCommand(libvirtd!.uri, domain, { execute: "guest-exec-status", arguments: { pid } });
    } while (!JSON.parse(exited).return.exited);
    const status = JSON.parse(exited).return;
    expect(status.exitcode).toBe(3);
    expect(Buffer.from(status["out-data"], "base64").toString()).toBe("partial\n");
    expect(Buffer.from(status["err-data"], "base64").toString()).toBe("no such thing\n");
    record("guest-exec-status-running.json", running);
    record("guest-exec-status-exited-nonzero.json", exited);
  });

  it("rejects guest-exec of a missing program with a virsh error", () => {
    let failure: { status: number; stderr: string } | undefined;
    try {
      agentCommand(libvirtd!.uri, domain, { execute: "guest-exec", arguments: { path: "/nonexistent/prog", "capture-output": true } });
    } catch (e) {
      failure = e as { status: number; stderr: string };
    }
    expect(failure?.status).not.toBe(0);
    expect(failure?.stderr).toContain("/nonexistent/prog");
    record("guest-exec-missing-program.stderr.txt", failure!.stderr);
  });

  it("runs a script fed on stdin (input-data), hostile text intact", () => {
    const hostile = `a'b"c $(x) \`y\` \\ <&> ; | end`;
    const script = `cat <<'EOF'\n${hostile}\nEOF\n`;
    const started = agentCommand(libvirtd!.uri, domain, {
      execute: "guest-exec",
      arguments: { path: "/bin/sh", arg: ["-s"], "input-data": Buffer.from(script).toString("base64"), "capture-output": true },
    });
    const pid = JSON.parse(started).return.pid;
    let exited: string;
    do {
      run("sleep", ["0.2"]);
      exited = agentCommand(libvirtd!.uri, domain, { execute: "guest-exec-status", arguments: { pid } });
    } while (!JSON.parse(exited).return.exited);
    const status = JSON.parse(exited).return;
    expect(status.exitcode).toBe(0);
    expect(Buffer.from(status["out-data"], "base64").toString()).toBe(`${hostile}\n`);
    record("guest-exec-stdin.json", started);
    record("guest-exec-status-stdin-exited-0.json", exited);
  });

  it("sends unfragmented 9000-byte frames from the guest to the bridge", () => {
    // 8972 bytes of ICMP payload + 28 bytes of headers = 9000: -M do forbids fragmenting.
    const out = guestExec(libvirtd!.uri, domain, "/bin/ping", ["-c", "3", "-W", "5", "-M", "do", "-s", "8972", "10.77.0.1"]);
    expect(out.stdout).toMatch(/3 packets transmitted, 3 received/);
  });

  it.skipIf(!hostPing)("is reachable from the namespace with unfragmented 9000-byte frames", () => {
    const out = ns!.exec(["ping", "-c", "3", "-W", "5", "-M", "do", "-s", "8972", GUEST_ADDRESS]);
    expect(out).toMatch(/3 packets transmitted, 3 received/);
    phase("jumbo ping");
  });
});
