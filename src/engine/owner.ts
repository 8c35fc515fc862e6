import * as fs from "node:fs";

/**
 * A process named so that a later run can tell whether it still lives: its pid and its start
 * time in clock ticks since boot (/proc/PID/stat field 22). A pid alone could have been reused
 * by an unrelated process since; pid and start time together cannot.
 */
export interface ProcessId {
  readonly pid: number;
  readonly startTicks: number | null;
}

function startTicksOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]);
  } catch {
    return null;
  }
}

export function thisProcess(): ProcessId {
  return { pid: process.pid, startTicks: startTicksOf(process.pid) };
}

/** Whether that very process is still running (a zombie has ended: only its parent's wait is missing). */
export function isRunning(p: ProcessId): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${p.pid}/stat`, "utf8");
  } catch {
    return false;
  }
  if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return false;
  return p.startTicks === null || startTicksOf(p.pid) === p.startTicks;
}

/** The value of OFFLOAD_LAB_OWNER in the environment of every engine process this process starts. */
export function ownerToken(p: ProcessId = thisProcess()): string {
  return `${p.pid}-${p.startTicks ?? 0}`;
}

/** Processes (other than this one) whose environment carries OFFLOAD_LAB_OWNER=token: what a dead run's engine left running. */
export function processesMarkedBy(token: string): number[] {
  const marker = Buffer.from(`\0OFFLOAD_LAB_OWNER=${token}\0`);
  const found: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      // A leading NUL lets the first variable match like the others.
      const environ = Buffer.concat([Buffer.from("\0"), fs.readFileSync(`/proc/${entry}/environ`)]);
      if (environ.includes(marker)) found.push(Number(entry));
    } catch { /* exited meanwhile, or a kernel thread */ }
  }
  return found;
}

/** The command of a process, for saying what was removed: "libvirtd", "qemu-system-x86_64", … */
export function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}
