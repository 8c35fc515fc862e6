import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canUseNamespaces, Namespace, run } from "../../src/sandbox/netns";
import { ensureGuestImage, GUEST_ADDRESS, GUEST_CMDLINE, type GuestImage } from "../../src/sandbox/guest-image/image";
import { Libvirtd } from "../../src/sandbox/libvirtd";
import { guestDomainXml, labNetworkXml } from "./guest-image/guestXml";
import { NIC_ALIAS } from "../../src/plan/guest-domain/domainXml";
import { agentCommand, guestExec, waitForAgent, type ExecResult } from "./guest-image/agent";

// Boots the Debian guest image the end-to-end lab uses, under TCG, on a libvirt network
// that exists only inside this test's namespace, and checks what the lab relies on: the
// agent answers, eth0 has 10.77.0.10 and MTU 9000, jumbo frames reach it unfragmented, it runs
// the pinned kernel and iperf3, and its NIC offers USO exactly when QEMU's host_uso is on (a
// second guest boots with host_uso off, both set through <qemu:override> as the stacks do).
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
  const noUsoDomain = "ol-guest-image-no-uso";
  let ping: string;
  const qomGet = (dom: string, property: string): unknown =>
    JSON.parse(
      libvirtd!.virsh(["qemu-monitor-command", dom, JSON.stringify({ execute: "qom-get", arguments: { path: `/machine/peripheral/${NIC_ALIAS}`, property } })]),
    ).return;
  const txUdpSegmentation = (dom: string) =>
    guestExec(libvirtd!.uri, dom, "/sbin/ethtool", ["-k", "eth0"]).stdout.match(/^tx-udp-segmentation: (.*)$/m)?.[1];

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
    const noUsoOverlay = path.join(work, "overlay-no-uso.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", image.baseImage, noUsoOverlay]);
    const boot = { network, kernel: image.kernel, initrd: image.initrd, cmdline: GUEST_CMDLINE };
    fs.writeFileSync(path.join(work, "domain.xml"), guestDomainXml({ ...boot, name: domain, overlay, consoleLog, hostUso: true }));
    fs.writeFileSync(
      path.join(work, "domain-no-uso.xml"),
      guestDomainXml({
        ...boot, name: noUsoDomain, overlay: noUsoOverlay, consoleLog: path.join(work, "console-no-uso.log"),
        mac: "52:54:00:77:00:0b", tap: "tap1", hostUso: false,
      }),
    );
    for (const [dom, xml] of [[domain, "domain.xml"], [noUsoDomain, "domain-no-uso.xml"]] as const) {
      libvirtd.virsh(["define", path.join(work, xml)]);
      libvirtd.virsh(["start", dom]);
    }
    phase("network, overlays, domains");
    try {
      ping = waitForAgent(libvirtd.uri, domain, AGENT_WAIT_MS);
      waitForAgent(libvirtd.uri, noUsoDomain, AGENT_WAIT_MS);
    } catch (e) {
      console.error(`guest console:\n${fs.existsSync(consoleLog) ? fs.readFileSync(consoleLog, "utf8").slice(-4000) : "(none)"}`);
      throw e;
    }
    phase("boot until guest-ping answers");
    if (recording) fs.mkdirSync(RECORD_DIR, { recursive: true });
  }, 900_000);

  afterAll(() => {
    if (libvirtd) {
      const domains = [domain, noUsoDomain].flatMap((d) => [["destroy", d], ["undefine", d]]);
      for (const args of [...domains, ["net-destroy", network], ["net-undefine", network]]) {
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
    const stdout = run("bash", [path.join(__dirname, "..", "..", "src", "sandbox", "guest-image", "build.sh"), outdir], { cwd: work });
    const result = JSON.parse(stdout.trim());
    expect(result).toMatchObject({ cacheHit: true, dir: outdir, baseImage: path.join(outdir, "debian-guest.qcow2") });
    for (const file of ["debian-guest.qcow2", "vmlinuz", "initrd.img"]) {
      expect(fs.statSync(path.join(outdir, file)).size).toBe(fs.statSync(path.join(image.dir, file)).size);
    }
    expect(fs.existsSync(path.join(work, "pwned"))).toBe(false);
  });

  it("runs trixie's 6.12 kernel and sid's iperf3 3.22, the versions its manifest records", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(image.dir, "manifest.json"), "utf8"));
    expect(manifest.versions.iperf3).toMatch(/^3\.22-/);
    const uname = guestExec(libvirtd!.uri, domain, "/bin/uname", ["-r"]);
    expect(uname.stdout.trim()).toBe(manifest.kernel);
    expect(manifest.kernel).toMatch(/^6\.12\./);
    const iperf3 = guestExec(libvirtd!.uri, domain, "/usr/bin/iperf3", ["--version"]);
    expect(iperf3.stdout).toMatch(/^iperf 3\.22\b/);
    const help = guestExec(libvirtd!.uri, domain, "/usr/bin/iperf3", ["--help"]);
    expect(help.stdout).toContain("--gsro");
  });

  it("offers USO, off but settable, when <qemu:override> sets host_uso on", () => {
    expect(qomGet(domain, "host_uso")).toBe(true);
    expect(txUdpSegmentation(domain)).toBe("off");
    const on = guestExec(libvirtd!.uri, domain, "/sbin/ethtool", ["-K", "eth0", "tx-udp-segmentation", "on"]);
    expect(on.exitcode).toBe(0);
    expect(txUdpSegmentation(domain)).toBe("on");
    const off = guestExec(libvirtd!.uri, domain, "/sbin/ethtool", ["-K", "eth0", "tx-udp-segmentation", "off"]);
    expect(off.exitcode).toBe(0);
    expect(txUdpSegmentation(domain)).toBe("off");
  });

  it("offers no USO, off [fixed], when <qemu:override> sets host_uso off", () => {
    expect(qomGet(noUsoDomain, "host_uso")).toBe(false);
    expect(txUdpSegmentation(noUsoDomain)).toBe("off [fixed]");
    guestExec(libvirtd!.uri, noUsoDomain, "/sbin/ethtool", ["-K", "eth0", "tx-udp-segmentation", "on"]);
    expect(txUdpSegmentation(noUsoDomain)).toBe("off [fixed]");
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
    record("guest-exec.json", link.replies[0]!);
    record("guest-exec-status-exited-0.json", link.replies.at(-1)!);
  }, 180_000);

  it("runs ethtool -k eth0 in the guest", () => {
    const features = guestExec(libvirtd!.uri, domain, "/sbin/ethtool", ["-k", "eth0"]);
    expect(features.exitcode).toBe(0);
    expect(features.stdout).toMatch(/^Features for eth0:/);
    expect(features.stdout).toMatch(/^tx-udp-segmentation: (on|off)/m);
    record("guest-exec-status-ethtool-k.json", features.replies.at(-1)!);
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
