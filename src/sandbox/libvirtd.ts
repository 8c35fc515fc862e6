import { execFileSync, type ExecFileSyncOptions } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Namespace, run } from "./netns";

/**
 * A libvirtd of its own for one test: inside the test's network namespace (its bridges, taps,
 * dnsmasq and firewall rules live there) and inside a private mount namespace in which
 * /run, /etc/libvirt, /var/lib/libvirt (except images/), /var/log/libvirt and
 * /var/cache/libvirt are directories under `dir`. Two tests, or a test and a host libvirtd,
 * never share a socket, a pid file or a definition.
 */
export class Libvirtd {
  private stopped = false;

  private constructor(
    readonly ns: Namespace,
    /** Private state root; the daemon's /run is `${dir}/run`. */
    readonly dir: string,
    readonly pid: number,
    readonly virtlogdPid: number,
  ) {}

  /** Reaches this daemon from any namespace, e.g. as `libvirt.uri` in a test config. */
  get uri(): string {
    return `qemu+unix:///system?socket=${this.dir}/run/libvirt/libvirt-sock`;
  }

  /**
   * `dir`: the state root, when the caller made it (and recorded it) first. `privateImages`:
   * /var/lib/libvirt/images is a folder of the daemon's own instead of the machine's, so two
   * daemons' guests of one name never share an overlay path (the sandbox hosts). `firewalld`:
   * a system D-Bus and firewalld run first, in the daemon's namespaces (the bus socket is in its
   * private /run, firewalld's rules in its network namespace), so libvirt puts its bridges in
   * firewalld's `libvirt` zone as on RHEL; the machine's own firewall is not touched.
   */
  static start(ns: Namespace, opts: { dir?: string; privateImages?: boolean; firewalld?: boolean } = {}): Libvirtd {
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "ol-libvirtd-"));
    for (const d of ["run", "etc", "lib/images", "log", "cache"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.cpSync("/etc/libvirt", path.join(dir, "etc"), {
      recursive: true,
      // Definitions kept by the host's libvirt (networks, domains) stay out.
      filter: (src) => src !== "/etc/libvirt/qemu",
    });
    fs.mkdirSync(path.join(dir, "etc", "qemu", "networks", "autostart"), { recursive: true });
    // Root QEMU without a security driver reads test files in private temp directories.
    fs.appendFileSync(path.join(dir, "etc", "qemu.conf"), '\nuser = "root"\ngroup = "root"\nsecurity_driver = "none"\n');
    const q = (p: string) => `'${p.replace(/'/g, "'\\''")}'`;
    const images = "/var/lib/libvirt/images";
    const setup = [
      "set -e",
      `mount --bind ${q(path.join(dir, "run"))} /run`,
      !opts.privateImages && fs.existsSync(images) ? `mount --bind ${images} ${q(path.join(dir, "lib/images"))}` : ":",
      `mount --rbind ${q(path.join(dir, "lib"))} /var/lib/libvirt`,
      `mount --bind ${q(path.join(dir, "etc"))} /etc/libvirt`,
      `mkdir -p /var/log/libvirt /var/cache/libvirt`,
      `mount --bind ${q(path.join(dir, "log"))} /var/log/libvirt`,
      `mount --bind ${q(path.join(dir, "cache"))} /var/cache/libvirt`,
      ...(opts.firewalld ? FIREWALLD_START : []),
      "virtlogd -d",
      "libvirtd -d",
    ].join("\n");
    ns.exec(["unshare", "--mount", "--propagation", "private", "bash", "-c", setup]);
    const pidOf = (file: string) => {
      const pid = Number(fs.readFileSync(path.join(dir, "run", file), "utf8").trim());
      // A signal to pid 0 (an empty file) would go to the caller's whole process group.
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${file} in ${dir} holds no pid`);
      return pid;
    };
    const daemon = new Libvirtd(ns, dir, pidOf("libvirtd.pid"), pidOf("virtlogd.pid"));
    daemon.waitUntilAnswering();
    return daemon;
  }

  private waitUntilAnswering(): void {
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        this.virsh(["version", "--daemon"]);
        return;
      } catch (e) {
        if (Date.now() > until) throw new Error(`libvirtd in ${this.ns.name} does not answer: ${(e as Error).message}`);
        execFileSync("sleep", ["0.2"]);
      }
    }
  }

  /** Runs argv in the daemon's network and mount namespaces: there `qemu:///system` is this daemon. */
  exec(argv: readonly string[], opts: ExecFileSyncOptions = {}): string {
    return run("nsenter", ["-t", String(this.pid), "-n", "-m", ...argv], opts);
  }

  /** Runs a bash script where a KVM host's script would run, with this daemon as qemu:///system. */
  bash(script: string, opts: ExecFileSyncOptions = {}): string {
    return this.exec(["bash", "-c", script], opts);
  }

  virsh(args: readonly string[]): string {
    return run("virsh", ["-c", this.uri, ...args]);
  }

  /** Kills the daemon and everything it started (QEMU, dnsmasq), then removes its state. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const pids = new Set([this.pid, this.virtlogdPid, ...processesInMountNamespace(this.pid)]);
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      for (const pid of pids) {
        try { process.kill(pid, signal); } catch { /* already gone */ }
      }
      const until = Date.now() + 5_000;
      while ([...pids].some(alive) && Date.now() < until) execFileSync("sleep", ["0.1"]);
    }
    // The bind mounts are private to the daemon's mount namespace: from here `dir` holds
    // plain directories, and removing it cannot reach the real images/.
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A system bus and firewalld in the private /run, with firewalld's shipped configuration (its
 * default zone public, which lets SSH in, and libvirt's zone from libvirt's package). libvirtd
 * starts after firewalld answers, or it would not find firewalld on the bus. The wait is
 * bounded: firewalld (Python) takes seconds to come up on a busy machine.
 */
const FIREWALLD_START = [
  "mkdir -p /run/dbus",
  "dbus-daemon --system --fork",
  "firewalld",
  "for _ in $(seq 600); do [ \"$(firewall-cmd --state 2>/dev/null)\" = running ] && break; sleep 0.1; done",
  "[ \"$(firewall-cmd --state 2>&1)\" = running ] || { echo \"firewalld did not start: $(firewall-cmd --state 2>&1)\" >&2; exit 1; }",
];

/** The daemon's children (QEMU, dnsmasq) share its private mount namespace and nothing else does. */
export function processesInMountNamespace(pid: number): number[] {
  let mine: string;
  try {
    mine = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/ns/mnt`) === mine) found.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return found;
}

/** A zombie has exited: only its parent's wait() is missing. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
