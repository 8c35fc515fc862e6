import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { GuestKeyPair, LabHost } from "../hosts/pool";
import { makeGuestKey } from "./guestKey";
import { Libvirtd } from "./libvirtd";
import { NAMESPACE_PREFIX, rootVethOf, SANDBOX_PORT, sandboxAddresses, sandboxHostName } from "./addresses";
import { Namespace, namespaceName, run } from "./netns";
import { claimSlot, type SandboxSlot } from "./ownership";
import { Sshd } from "./sshd";

export interface SandboxOptions {
  /**
   * The host runs firewalld, as RHEL does by default: libvirt's bridges land in its `libvirt`
   * zone, which rejects the guest's traffic to the host's iperf3 port until the lab opens it
   * (host.firewall). Off by default: the other tests' hosts have no firewall.
   */
  readonly firewalld?: boolean;
}

/**
 * The sandbox KVM host: a network namespace with its own libvirtd and an sshd, reached from
 * the root namespace over one veth pair in a /30 that exists only on that pair. Guests,
 * bridges, taps and iperf3 all live inside the namespace; the only traffic outside it is SSH
 * over the veth. Several can run at once, one per slot (src/sandbox/addresses.ts), each owned
 * through a lock (src/sandbox/ownership.ts). Stacks sandbox-uso-off/-on name slot 0's address;
 * a sandbox host hands its stacks its own (`labHost`).
 */
export class SandboxHost {
  private stopped = false;

  private constructor(
    readonly slot: number,
    readonly ns: Namespace,
    readonly lv: Libvirtd,
    readonly sshd: Sshd,
    /** The key a stack logs in with (OpenSSH format, ed25519). */
    readonly privateKey: string,
    /** The key pair its stacks' guests are reached with over SSH (sandbox-ssh). */
    readonly guestKey: GuestKeyPair,
    private readonly rootVeth: string,
    private readonly owned: SandboxSlot,
  ) {}

  get address(): string {
    return sandboxAddresses(this.slot).sandbox;
  }

  /** This sandbox as a host its stacks run on. */
  get labHost(): LabHost {
    const key = this.privateKey;
    return {
      name: sandboxHostName(this.slot),
      address: this.address,
      user: "root",
      port: SANDBOX_PORT,
      privateKey: () => key,
      keySource: "the sandbox's own key, made when it started",
      guestKey: this.guestKey,
    };
  }

  /**
   * Takes the slot (removing what a dead owner left there, said through `log`), then makes the
   * namespace, veth, libvirtd and sshd, recording each in the slot's record before making it.
   */
  static async start(slot = 0, log: (line: string) => void = () => undefined, opts: SandboxOptions = {}): Promise<SandboxHost> {
    const { sandbox, peer } = sandboxAddresses(slot);
    const owned = await claimSlot(slot, log);
    const nsName = namespaceName(NAMESPACE_PREFIX);
    const rootVeth = rootVethOf(nsName);
    try {
      owned.record({ namespace: nsName, veth: rootVeth });
      const ns = new Namespace(NAMESPACE_PREFIX, nsName);
      run("ip", ["link", "add", rootVeth, "type", "veth", "peer", "name", "uplink", "netns", ns.name]);
      run("ip", ["addr", "add", `${peer}/30`, "dev", rootVeth]);
      run("ip", ["link", "set", rootVeth, "up"]);
      ns.exec(["ip", "addr", "add", `${sandbox}/30`, "dev", "uplink"]);
      ns.exec(["ip", "link", "set", "uplink", "up"]);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-libvirtd-"));
      owned.record({ namespace: nsName, veth: rootVeth, libvirtdDir: dir });
      const lv = Libvirtd.start(ns, { dir, privateImages: true, firewalld: opts.firewalld === true });
      const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-sandbox-key-"));
      run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "offload-lab-sandbox", "-f", path.join(keyDir, "id")]);
      const privateKey = fs.readFileSync(path.join(keyDir, "id"), "utf8");
      const publicKey = fs.readFileSync(path.join(keyDir, "id.pub"), "utf8");
      fs.rmSync(keyDir, { recursive: true, force: true });
      const sshd = Sshd.start(lv, sandbox, SANDBOX_PORT, publicKey);
      return new SandboxHost(slot, ns, lv, sshd, privateKey, makeGuestKey(dir), rootVeth, owned);
    } catch (e) {
      // Whatever was made is in the record, even a libvirtd that started but never answered.
      owned.removeRecorded();
      owned.release();
      throw e;
    }
  }

  /** Stops everything the sandbox started (libvirtd, its guests, sshd), removes the namespace and veth, frees the slot. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    try { process.kill(this.sshd.pid, "SIGTERM"); } catch { /* gone */ }
    this.lv.stop();
    this.ns.remove();
    try { run("ip", ["link", "del", this.rootVeth]); } catch { /* went with the namespace */ }
    this.owned.release();
  }
}
