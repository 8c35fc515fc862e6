import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { run, type Namespace } from "../../support/netns";

/**
 * A libvirtd private to one test: it lives in the test's network namespace (its bridges,
 * taps and dnsmasq stay there) and in its own mount namespace, where tmpfs hides the host's
 * /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt and
 * /etc/libvirt/qemu. Its sockets sit in `dir`, so several of these (other tests, other
 * worktrees) never share a socket, a network definition or a status file, and nothing the
 * test defines outlives it.
 */
export interface NamespacedLibvirtd {
  /** libvirt URI for `virsh -c` (the socket is outside the private mounts). */
  readonly uri: string;
  /** State, sockets, config and logs (libvirtd.log, qemu/<domain>.log). */
  readonly dir: string;
  readonly pid: number;
  /** Kills libvirtd (and with it nothing else: the caller removes the namespace). */
  stop(): void;
}

// stdio_handler=file: QEMU logs go straight to files, so no virtlogd is needed. QEMU runs as
// root without a security driver or cgroups, because this machine has no systemd and tests
// must not relabel the shared image cache.
const QEMU_CONF = `user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
stdio_handler = "file"
cgroup_controllers = [ ]
`;

const CAPS_CACHE = "/var/cache/offload-lab/libvirt-qemu-capabilities";

export function startLibvirtd(ns: Namespace): NamespacedLibvirtd {
  const dir = path.join("/run/offload-lab", `libvirt-${ns.name}`);
  fs.mkdirSync(path.join(dir, "sock"), { recursive: true });
  fs.mkdirSync(path.join(dir, "log"), { recursive: true });
  fs.writeFileSync(path.join(dir, "qemu.conf"), QEMU_CONF);
  fs.writeFileSync(
    path.join(dir, "libvirtd.conf"),
    [
      `unix_sock_dir = "${dir}/sock"`,
      `unix_sock_rw_perms = "0700"`,
      `auth_unix_rw = "none"`,
      `auth_unix_ro = "none"`,
      `log_outputs = "3:file:${dir}/log/libvirtd.log"`,
      "",
    ].join("\n"),
  );
  const pidFile = path.join(dir, "libvirtd.pid");
  // The mount namespace lives as long as libvirtd does; `ip netns exec` puts it in the netns.
  const script = `set -euo pipefail
for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt /etc/libvirt/qemu; do
  mkdir -p "$d"; mount -t tmpfs -o mode=0755 offload-lab "$d"
done
# Probing QEMU's capabilities takes seconds; every test libvirtd shares the probe's result.
mkdir -p "$2" /var/cache/libvirt/qemu; mount --bind "$2" /var/cache/libvirt/qemu
mkdir -p /var/log/libvirt; mount --bind "$1/log" /var/log/libvirt
mount --bind "$1/qemu.conf" /etc/libvirt/qemu.conf
exec libvirtd -d -f "$1/libvirtd.conf" -p "$1/libvirtd.pid"`;
  ns.exec(["unshare", "--mount", "--propagation", "private", "bash", "-c", script, "libvirtd-netns", dir, CAPS_CACHE]);
  const uri = `qemu:///system?socket=${dir}/sock/libvirt-sock`;
  waitFor(() => {
    try {
      execFileSync("virsh", ["-c", uri, "version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  }, 30_000, `libvirtd in ${ns.name} did not answer on ${uri} (see ${dir}/log/libvirtd.log)`);
  const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
  return {
    uri,
    dir,
    pid,
    stop() {
      try {
        process.kill(pid, "SIGTERM");
        waitFor(() => !alive(pid), 10_000, "libvirtd ignored SIGTERM");
      } catch {
        if (alive(pid)) process.kill(pid, "SIGKILL");
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function virsh(uri: string, args: readonly string[]): string {
  return run("virsh", ["-c", uri, ...args]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function waitFor(ok: () => boolean, timeoutMs: number, message: string): void {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(message);
    execFileSync("sleep", ["0.2"]);
  }
}
