import { execFileSync, type ExecFileSyncOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

// Network namespaces the tests make and remove. All lab traffic in tests stays inside them.

export function canUseNamespaces(): { ok: true } | { ok: false; reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: "needs root to create network namespaces" };
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore" });
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `ip netns unavailable: ${(e as Error).message}` };
  }
}

export function run(cmd: string, args: readonly string[], opts: ExecFileSyncOptions = {}): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], ...opts }) as string;
}

/** Not ended (a zombie has: only its parent's wait is missing). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

export function namespaceName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

export class Namespace {
  readonly name: string;
  /** `name` when given (an owner records it before it exists), else the prefix and a random suffix. */
  constructor(prefix = "ol", name?: string) {
    this.name = name ?? namespaceName(prefix);
    run("ip", ["netns", "add", this.name]);
    this.exec(["ip", "link", "set", "lo", "up"]);
  }

  /** Runs argv inside the namespace and returns stdout. */
  exec(argv: readonly string[], opts: ExecFileSyncOptions = {}): string {
    return run("ip", ["netns", "exec", this.name, ...argv], opts);
  }

  /** Runs a bash script inside the namespace. */
  bash(script: string, opts: ExecFileSyncOptions = {}): string {
    return this.exec(["bash", "-c", script], opts);
  }

  remove(): void {
    // Processes left inside would keep the namespace's devices alive. They are waited for:
    // a QEMU (which libvirt starts in a mount namespace of its own, so only this reaches it)
    // takes a moment to go, and whoever looks next must not find it.
    try {
      const pids = run("ip", ["netns", "pids", this.name]).split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) {
        try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ }
      }
      const until = Date.now() + 10_000;
      while (pids.some(running) && Date.now() < until) execFileSync("sleep", ["0.1"]);
    } catch { /* namespace already gone */ }
    try { run("ip", ["netns", "del", this.name]); } catch { /* already gone */ }
  }
}

/**
 * A veth pair between two namespaces, addresses in 10.199.0.0/24 by default, both ends at
 * `mtu`. Returns the device names and addresses.
 */
export function vethPair(a: Namespace, b: Namespace, mtu: number, subnet = "10.199.0") {
  const ifA = `va${randomBytes(2).toString("hex")}`;
  const ifB = `vb${randomBytes(2).toString("hex")}`;
  a.exec(["ip", "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b.name]);
  a.exec(["ip", "addr", "add", `${subnet}.1/24`, "dev", ifA]);
  b.exec(["ip", "addr", "add", `${subnet}.2/24`, "dev", ifB]);
  a.exec(["ip", "link", "set", ifA, "mtu", String(mtu), "up"]);
  b.exec(["ip", "link", "set", ifB, "mtu", String(mtu), "up"]);
  return { ifA, ifB, addrA: `${subnet}.1`, addrB: `${subnet}.2` };
}
