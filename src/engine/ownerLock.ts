import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { isRunning, thisProcess, type ProcessId } from "./owner";

/**
 * Exclusive ownership of something (a sandbox slot, a sweep's output folder) held by the running
 * process: an flock(2) on `<file>.lock`, taken by a small helper whose stdin is a pipe from this
 * process. When this process ends in any way — exit, crash, SIGKILL, a closed terminal — the
 * pipe closes, the helper (cat) reads EOF and exits, and the kernel drops the lock. So a lock
 * that can be taken has no live owner, and whatever the owner's record (`<file>.json`) lists
 * is a leftover to remove; a lock that cannot be taken is held by a process still running.
 */
export interface OwnerRecord {
  readonly owner: ProcessId;
  /** The owner's command line, for the message that refuses a second owner. */
  readonly command: string;
  readonly since: string;
  readonly [detail: string]: unknown;
}

export class OwnerLock {
  private released = false;

  private constructor(
    readonly file: string,
    private readonly helper: ChildProcess,
  ) {}

  get recordFile(): string {
    return `${this.file}.json`;
  }

  /**
   * Takes the lock, or returns the record of the process holding it (null when that process
   * has not written one yet).
   */
  static async acquire(file: string): Promise<{ lock: OwnerLock; previous: OwnerRecord | null } | { holder: OwnerRecord | null }> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const helper = spawn("sh", ["-c", 'exec 9>>"$1" && flock -n -E 75 9 && echo locked && exec cat >/dev/null', "sh", `${file}.lock`], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const outcome = await new Promise<"locked" | number>((resolve, reject) => {
      let stderr = "";
      helper.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      helper.stdout!.setEncoding("utf8").once("data", () => resolve("locked"));
      helper.on("error", reject);
      helper.on("exit", (code) => (code === 75 ? resolve(75) : reject(new Error(`cannot lock ${file}.lock: ${stderr.trim() || `exit ${code}`}`))));
    });
    if (outcome !== "locked") return { holder: readRecord(`${file}.json`) };
    // The helper must not keep this process alive, only follow it.
    helper.removeAllListeners("exit");
    helper.unref();
    for (const s of [helper.stdin, helper.stdout, helper.stderr] as unknown as { unref?: () => void }[]) s?.unref?.();
    const lock = new OwnerLock(file, helper);
    return { lock, previous: readRecord(lock.recordFile) };
  }

  /** Records what this owner holds; written before each thing is made, so a crash leaves a complete list. */
  write(details: Record<string, unknown>): void {
    const record: OwnerRecord = {
      owner: thisProcess(),
      command: process.argv.slice(1).join(" "),
      since: new Date().toISOString(),
      ...details,
    };
    const tmp = `${this.recordFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record, null, 2) + "\n");
    fs.renameSync(tmp, this.recordFile);
  }

  /** Forgets the record (everything it listed is gone) and drops the lock. */
  release(): void {
    if (this.released) return;
    this.released = true;
    fs.rmSync(this.recordFile, { force: true });
    const pid = this.helper.pid!;
    const helper: ProcessId = { pid, startTicks: null };
    try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
    // The lock goes with the helper's last file descriptor, at its exit (a zombie holds none).
    const until = Date.now() + 5_000;
    while (isRunning(helper) && Date.now() < until) execFileSync("sleep", ["0.05"]);
  }
}

function readRecord(file: string): OwnerRecord | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as OwnerRecord;
  } catch {
    return null;
  }
}
