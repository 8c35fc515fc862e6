import * as fs from "node:fs";
import * as path from "node:path";
import { ensureGuestImage } from "./guest-image/image";
import { SandboxHost } from "./host";
import { lendKey, SANDBOX_STACKS } from "./stacks";

/** Where the sandbox stacks (like linux-uso-on) expect the guest's base image, kernel and initrd. */
const IMAGES = "/var/lib/offload-lab/images";

/**
 * Links the lab's Debian guest image where the sandbox stacks look for it. The image is built
 * once and cached by the builder that its boot test also uses (src/sandbox/guest-image/build.sh).
 */
export async function prepareGuestImage(log: (line: string) => void): Promise<void> {
  const image = await ensureGuestImage();
  log(`guest image: ${image.cacheHit ? "cache hit" : "built"} in ${image.seconds} s (${image.dir})`);
  fs.mkdirSync(IMAGES, { recursive: true });
  for (const [file, target] of [["debian-guest.qcow2", image.baseImage], ["vmlinuz", image.kernel], ["initrd.img", image.initrd]] as const) {
    fs.rmSync(path.join(IMAGES, file), { force: true });
    fs.symlinkSync(target, path.join(IMAGES, file));
  }
}

export interface Sandbox {
  readonly host: SandboxHost;
  /** Removes the sandbox stacks from the backend, restores their files, stops the host. */
  stop(): Promise<void>;
}

/** The guest image, the sandbox host, and its key lent to the sandbox stacks. */
export async function startSandbox(projectDir: string, log: (line: string) => void): Promise<Sandbox> {
  await prepareGuestImage(log);
  const host = SandboxHost.start();
  log(`sandbox: KVM host ${host.ns.name} with libvirtd and sshd at root@10.203.77.2`);
  let lent: { release(): Promise<void> } | undefined;
  try {
    lent = await lendKey(projectDir, host.privateKey, SANDBOX_STACKS);
  } catch (e) {
    host.stop();
    throw e;
  }
  let stopped = false;
  return {
    host,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await lent!.release();
      } finally {
        host.stop();
        log("sandbox: removed");
      }
    },
  };
}
