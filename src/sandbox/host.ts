import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Libvirtd } from "./libvirtd";
import { Namespace, run } from "./netns";
import { Sshd } from "./sshd";

/**
 * The sandbox KVM host: a network namespace with its own libvirtd and an sshd, reached from
 * the root namespace over one veth pair in a /30 that exists only on that pair. Guests,
 * bridges, taps and iperf3 all live inside the namespace; the only traffic outside it is SSH
 * over the veth. Stacks sandbox-uso-off/-on point `host.address` here.
 */
export const SANDBOX_ADDRESS = "10.203.77.2";
export const SANDBOX_PEER = "10.203.77.1";
export const SANDBOX_PORT = 22;

const NAMESPACE_PREFIX = "olsandbox";

/** The root-namespace end of a sandbox's veth, named after its namespace so each names the other. */
export function rootVethOf(namespace: string): string {
  return `olsb${namespace.slice(-4)}`;
}

/** The root-namespace link that holds the sandbox's peer address, or null when none does. */
export function peerAddressHolder(): string | null {
  const line = run("ip", ["-o", "addr", "show", "to", `${SANDBOX_PEER}/32`]).trim();
  return line === "" ? null : line.split(/\s+/)[1]!.split("@")[0]!;
}

/**
 * Another sandbox holds the sandbox's address: a run still going, or one that died before it
 * could remove its namespace. Not a fault of offload-lab, so the CLI prints it as a user error,
 * with the commands that remove a leftover.
 */
export class SandboxBusyError extends Error {
  constructor(link: string, namespace: string | undefined) {
    super(
      `a sandbox is already running: ${SANDBOX_PEER} is on link ${link}` +
        (namespace !== undefined ? ` (namespace ${namespace})` : "") +
        ". If no offload-lab run is using it, remove it: " +
        (namespace !== undefined ? `ip netns pids ${namespace} | xargs -r kill -9; ip netns del ${namespace}` : `ip link del ${link}`),
    );
    this.name = "SandboxBusyError";
  }
}

export class SandboxHost {
  private constructor(
    readonly ns: Namespace,
    readonly lv: Libvirtd,
    readonly sshd: Sshd,
    /** The key a stack logs in with (OpenSSH format, ed25519). */
    readonly privateKey: string,
    private readonly rootVeth: string,
  ) {}

  static start(): SandboxHost {
    // The stacks name one address: a second sandbox would put the same /30 on a second link.
    const holder = peerAddressHolder();
    if (holder !== null) {
      const namespace = run("ip", ["netns", "list"]).split("\n").map((l) => l.split(" ")[0]!)
        .find((n) => n.startsWith(`${NAMESPACE_PREFIX}-`) && rootVethOf(n) === holder);
      throw new SandboxBusyError(holder, namespace);
    }
    const ns = new Namespace(NAMESPACE_PREFIX);
    const rootVeth = rootVethOf(ns.name);
    try {
      run("ip", ["link", "add", rootVeth, "type", "veth", "peer", "name", "uplink", "netns", ns.name]);
      run("ip", ["addr", "add", `${SANDBOX_PEER}/30`, "dev", rootVeth]);
      run("ip", ["link", "set", rootVeth, "up"]);
      ns.exec(["ip", "addr", "add", `${SANDBOX_ADDRESS}/30`, "dev", "uplink"]);
      ns.exec(["ip", "link", "set", "uplink", "up"]);
      const lv = Libvirtd.start(ns);
      const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-sandbox-key-"));
      run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "offload-lab-sandbox", "-f", path.join(keyDir, "id")]);
      const privateKey = fs.readFileSync(path.join(keyDir, "id"), "utf8");
      const publicKey = fs.readFileSync(path.join(keyDir, "id.pub"), "utf8");
      fs.rmSync(keyDir, { recursive: true, force: true });
      const sshd = Sshd.start(lv, SANDBOX_ADDRESS, SANDBOX_PORT, publicKey);
      return new SandboxHost(ns, lv, sshd, privateKey, rootVeth);
    } catch (e) {
      try { run("ip", ["link", "del", rootVeth]); } catch { /* not made */ }
      ns.remove();
      throw e;
    }
  }

  /** Stops everything the sandbox started (libvirtd, its guests, sshd) and removes the namespace and veth. */
  stop(): void {
    try { process.kill(this.sshd.pid, "SIGTERM"); } catch { /* gone */ }
    this.lv.stop();
    this.ns.remove();
    try { run("ip", ["link", "del", this.rootVeth]); } catch { /* went with the namespace */ }
  }
}
