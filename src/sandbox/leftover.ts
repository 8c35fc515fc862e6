import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { commandOf, isRunning, ownerToken, processesMarkedBy, type ProcessId } from "../engine/owner";
import { processesInMountNamespace } from "./libvirtd";
import { run } from "./netns";

/** What a sandbox's owner records before it makes each thing (src/sandbox/host.ts). */
export interface SandboxParts {
  readonly slot: number;
  readonly namespace?: string;
  readonly veth?: string;
  /** The libvirtd's state root: its /run (pid files, sockets), etc, the guests' images, sshd's files. */
  readonly libvirtdDir?: string;
}

function namespaceExists(ns: string): boolean {
  return run("ip", ["netns", "list"]).split("\n").some((l) => l.split(" ")[0] === ns);
}

function linkExists(link: string): boolean {
  try {
    run("ip", ["link", "show", link]);
    return true;
  } catch {
    return false;
  }
}

function pidFile(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Removes what a sandbox whose owner died left: every process of its network namespace and of
 * its libvirtd's mount namespace (libvirtd, virtlogd, QEMU, dnsmasq, sshd and its sessions), the
 * engine processes the dead owner started (marked OFFLOAD_LAB_OWNER, src/engine/environment.ts:
 * a Pulumi CLI still running an update would write to the state after the next run began), the
 * namespace, the veth and the libvirtd's folder. Returns what it removed, for the message.
 */
export function removeSandboxLeftover(parts: SandboxParts, owner: ProcessId | null): string[] {
  const removed: string[] = [];
  const pids = new Set<number>();
  const ns = parts.namespace !== undefined && namespaceExists(parts.namespace) ? parts.namespace : undefined;
  if (ns !== undefined) {
    for (const p of run("ip", ["netns", "pids", ns]).split(/\s+/).filter(Boolean)) pids.add(Number(p));
  }
  if (parts.libvirtdDir !== undefined) {
    const libvirtd = pidFile(`${parts.libvirtdDir}/run/libvirtd.pid`);
    if (libvirtd !== null) for (const p of processesInMountNamespace(libvirtd)) pids.add(p);
  }
  if (owner !== null) for (const p of processesMarkedBy(ownerToken(owner))) pids.add(p);
  pids.delete(process.pid);
  pids.delete(0);
  if (pids.size > 0) {
    const named = [...pids].sort((a, b) => a - b).map((p) => `${commandOf(p)} ${p}`);
    for (const p of pids) {
      try { process.kill(p, "SIGKILL"); } catch { /* gone meanwhile */ }
    }
    const until = Date.now() + 10_000;
    while ([...pids].some((pid) => isRunning({ pid, startTicks: null })) && Date.now() < until) execFileSync("sleep", ["0.1"]);
    removed.push(`processes ${named.join(", ")}`);
  }
  // The veth first: deleting the namespace takes its peer, and with it the root end, at a time of the kernel's choosing.
  if (parts.veth !== undefined && linkExists(parts.veth)) {
    run("ip", ["link", "del", parts.veth]);
    removed.push(`veth ${parts.veth}`);
  }
  if (ns !== undefined) {
    run("ip", ["netns", "del", ns]);
    removed.push(`namespace ${ns}`);
  }
  if (parts.libvirtdDir !== undefined && fs.existsSync(parts.libvirtdDir)) {
    // Its mounts lived in the daemon's private mount namespace, gone with its processes.
    fs.rmSync(parts.libvirtdDir, { recursive: true, force: true });
    removed.push(`folder ${parts.libvirtdDir}`);
  }
  return removed;
}
