// Guest disk creation: a linked clone of the base (what the guest-disk step does) against a
// full copy of it, side by side in one run on the same base. Prints the medians and the ratio.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateLab } from "../src/config/validate";
import { guestDiskStep } from "../src/plan/guest-disk/step";
import type { Step } from "../src/plan/step";

const BASE_GIB = 20;
/** Data actually written into the otherwise sparse base: what a full copy has to move. */
const WRITTEN_MIB = 512;
const ROUNDS = 5;

function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-bench-clone-"));
  try {
    const base = path.join(dir, "base.raw");
    execFileSync("qemu-img", ["create", "-q", "-f", "raw", base, `${BASE_GIB}G`]);
    // 1 MiB of data every BASE_GIB*1024/WRITTEN_MIB MiB: sparse, but not empty.
    const stride = Math.floor((BASE_GIB * 1024) / WRITTEN_MIB);
    const fd = fs.openSync(base, "r+");
    const chunk = Buffer.alloc(1024 * 1024, 0xa5);
    for (let i = 0; i < WRITTEN_MIB; i++) fs.writeSync(fd, chunk, 0, chunk.length, i * stride * 1024 * 1024);
    fs.closeSync(fd);

    const cfg = validateLab("bench", {
      guest: { os: "linux", name: "bench", baseImage: base, baseImageFormat: "raw", overlayDir: dir },
    });
    const step = guestDiskStep(cfg, { hostReadiness: { name: "host-readiness" } as Step });
    const copy = path.join(dir, "full-copy.qcow2");
    const linked: number[] = [];
    const full: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      linked.push(timed(() => execFileSync("bash", ["-c", step.create], { stdio: ["ignore", "ignore", "ignore"] })));
      execFileSync("bash", ["-c", step.delete!], { stdio: "ignore" });
      full.push(timed(() => execFileSync("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", base, copy])));
      fs.rmSync(copy);
    }
    const l = median(linked);
    const f = median(full);
    console.log(`guest disk from a sparse ${BASE_GIB} GiB base with ${WRITTEN_MIB} MiB of data, median of ${ROUNDS}:`);
    console.log(`  linked clone (guest-disk step): ${l.toFixed(1)} ms`);
    console.log(`  full copy (qemu-img convert):   ${f.toFixed(1)} ms`);
    console.log(`  full copy / linked clone: ${(f / l).toFixed(1)}x`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
