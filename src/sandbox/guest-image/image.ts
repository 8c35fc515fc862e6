import * as path from "node:path";
import { spawn } from "node:child_process";

export interface GuestImage {
  /** Directory holding the three files (the cache entry). */
  dir: string;
  /** qcow2 of a bare ext4 root filesystem: boot with root=/dev/vda; clone, never write it. */
  baseImage: string;
  kernel: string;
  initrd: string;
  cacheHit: boolean;
  seconds: number;
}

/** Kernel command line the image is built for. */
export const GUEST_CMDLINE = "root=/dev/vda rw console=ttyS0 net.ifnames=0";
/** Address the guest's eth0 gets (DHCP host entry for its MAC, or the static build). */
export const GUEST_ADDRESS = "10.77.0.10";

const BUILD_SH = path.join(__dirname, "build.sh");

/**
 * Builds the Debian guest image, or finds it in the cache (OFFLOAD_LAB_IMAGE_CACHE, default
 * /var/cache/offload-lab/guest-image). A miss takes minutes (debootstrap), a hit seconds.
 * build.sh's progress goes to this process's stderr.
 */
export function ensureGuestImage(): Promise<GuestImage> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [BUILD_SH], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => (stdout += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`build.sh exited ${code}`));
      try {
        const { dir, baseImage, kernel, initrd, cacheHit, seconds } = JSON.parse(stdout.trim().split("\n").pop()!);
        resolve({ dir, baseImage, kernel, initrd, cacheHit, seconds });
      } catch (e) {
        reject(new Error(`build.sh printed no result line: ${(e as Error).message}: ${stdout}`));
      }
    });
  });
}
