import { spawn } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { validateLab } from "../../src/config/validate";
import { guestNetworkStep } from "../../src/plan/guest-network/step";
import type { Step } from "../../src/plan/step";
import { netnsTransport } from "../../src/plan/transport";
import { canUseNamespaces, Namespace, run } from "../../src/sandbox/netns";

// The guest-network step's host command, for real, through the netns transport into a
// namespace standing in for the guest:
// its eth0 is a veth whose other end, with the host's address, is in a second namespace. The
// script must keep waiting while eth0 is down, unaddressed or has no route to the host (the
// state the lab's guest was in when every cell failed with "Network is unreachable"), and
// finish once all three are there.

const env = canUseNamespaces();
if (!env.ok) console.error(`guest-network test skipped: ${env.reason}`);

const cfg = validateLab("guest-network-test", {
  libvirt: { domainType: "qemu" },
  network: { mode: "dedicated", name: "ol-gn", bridge: "olgnbr0", cidr: "10.199.0.0/24", guestAddress: "10.199.0.10", mtu: 1500 },
  guest: { os: "linux", name: "ol-gn-guest", baseImage: "/l.qcow2", access: "agent", linuxInterface: "eth0" },
});
const guestOffloads = { name: "guest-offloads" } as Step;

interface Exit { code: number | null; stdout: string; stderr: string }

describe.skipIf(!env.ok)("guest-network script in a namespace", () => {
  let host: Namespace;
  let guest: Namespace;

  beforeEach(() => {
    host = new Namespace("olgnh");
    guest = new Namespace("olgng");
    host.exec(["ip", "link", "add", "olgn-host", "type", "veth", "peer", "name", "eth0", "netns", guest.name]);
    host.exec(["ip", "addr", "add", `${cfg.network.hostAddress}/24`, "dev", "olgn-host"]);
    host.exec(["ip", "link", "set", "olgn-host", "up"]);
  });
  afterEach(() => {
    guest?.remove();
    host?.remove();
  });

  const step = () => guestNetworkStep(cfg, netnsTransport(guest.name), { guestOffloads });
  /** The step's own host command, its wait shortened to `seconds` where given. */
  const command = (seconds?: number) => {
    const create = step().create;
    return seconds === undefined ? create : create.replace(/^WAIT_SECONDS=.*$/m, `WAIT_SECONDS=${seconds}`);
  };
  const start = (text: string) => {
    const child = spawn("bash", ["-c", text], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<Exit>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
    return { child, exited };
  };

  it("waits while eth0 is down and unaddressed, then reports it up with its address and route", async () => {
    const { child, exited } = start(command());
    // Let it poll a few rounds against the unconfigured eth0: it must still be waiting.
    run("sleep", ["3"]);
    expect(child.exitCode).toBeNull();
    guest.exec(["ip", "addr", "add", "10.199.0.10/24", "dev", "eth0"]);
    guest.exec(["ip", "link", "set", "eth0", "up"]);
    const r = await exited;
    expect(r.code, r.stderr).toBe(0);
    const out = step().parse(r.stdout);
    expect(out).toMatchObject({ interface: "eth0", operstate: "up", addresses: ["10.199.0.10/24"] });
    expect(out.route).toContain(`${cfg.network.hostAddress} dev eth0 src 10.199.0.10`);
    expect(out.waitedSeconds).toBeGreaterThan(0);
  }, 60_000);

  it("fails naming the missing route when eth0 is up and addressed but cannot reach the host", async () => {
    // A /32: the address is there, the host's subnet is not, as before DHCP installs its route.
    guest.exec(["ip", "addr", "add", "10.199.0.10/32", "dev", "eth0"]);
    guest.exec(["ip", "link", "set", "eth0", "up"]);
    const r = await start(command(2)).exited;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`guest-network: after 2 s, no route to the host ${cfg.network.hostAddress} through eth0`);
    expect(r.stderr).toContain("Network is unreachable");
    expect(r.stdout).toBe("");
  }, 60_000);

  it("fails naming the configured address when eth0 got another one", async () => {
    guest.exec(["ip", "addr", "add", "10.199.0.11/24", "dev", "eth0"]);
    guest.exec(["ip", "link", "set", "eth0", "up"]);
    const r = await start(command(1)).exited;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("eth0 has no address 10.199.0.10 (it has: 10.199.0.11/24)");
  }, 60_000);

  it("fails naming the link state when eth0 never comes up", async () => {
    const r = await start(command(1)).exited;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("guest-network: after 1 s, eth0 is down, not up");
  }, 60_000);
});
