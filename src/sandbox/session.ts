import * as fs from "node:fs";
import * as path from "node:path";
import { forgetHostStacks } from "../engine/hostStacks";
import type { LabHost } from "../hosts/pool";
import { ensureGuestImage } from "./guest-image/image";
import { SandboxHost, type SandboxOptions } from "./host";

/** Where the sandbox stacks (like linux-uso-on) expect the guest's base image, kernel and initrd. */
const IMAGES = "/var/lib/offload-lab/images";

/**
 * Links the lab's Debian guest image where the sandbox stacks look for it. The image is built
 * once and cached by the builder that its boot test also uses (src/sandbox/guest-image/build.sh).
 * Links are replaced by rename, so a second sandbox starting meanwhile never sees one missing.
 */
export async function prepareGuestImage(log: (line: string) => void): Promise<void> {
  const image = await ensureGuestImage();
  log(`guest image: ${image.cacheHit ? "cache hit" : "built"} in ${image.seconds} s (${image.dir})`);
  fs.mkdirSync(IMAGES, { recursive: true });
  for (const [file, target] of [["debian-guest.qcow2", image.baseImage], ["vmlinuz", image.kernel], ["initrd.img", image.initrd]] as const) {
    const link = path.join(IMAGES, file);
    if (fs.existsSync(link) && fs.realpathSync(link) === fs.realpathSync(target)) continue;
    const tmp = `${link}.${process.pid}.tmp`;
    fs.rmSync(tmp, { force: true });
    fs.symlinkSync(target, tmp);
    fs.renameSync(tmp, link);
  }
}

export interface Sandbox {
  readonly host: SandboxHost;
  /** The sandbox as the host its stacks run on (`<stack>.sandbox-<slot>`). */
  readonly labHost: LabHost;
  /** Forgets the sandbox's stacks in the backend, stops the host, frees its slot. */
  stop(): Promise<void>;
}

/**
 * The guest image and a sandbox host in `slot`. Its stacks are `<stack>.sandbox-<slot>`, with the
 * sandbox's address and key set into their working copies (src/engine/stack.ts); stacks of that
 * name an earlier sandbox left in the backend are forgotten first (their host is gone).
 */
export async function startSandbox(projectDir: string, log: (line: string) => void, slot = 0, opts: SandboxOptions = {}): Promise<Sandbox> {
  await prepareGuestImage(log);
  const host = await SandboxHost.start(slot, log, opts);
  const labHost = host.labHost;
  const forget = async (when: string) => {
    const gone = await forgetHostStacks(projectDir, labHost.name);
    if (gone.length > 0) log(`sandbox: forgot ${when} stacks of ${labHost.name}: ${gone.join(", ")}`);
  };
  try {
    await forget("an earlier sandbox's");
  } catch (e) {
    host.stop();
    throw e;
  }
  log(`sandbox: KVM host ${labHost.name} (namespace ${host.ns.name}) with libvirtd${opts.firewalld ? ", firewalld" : ""} and sshd at root@${labHost.address}`);
  let stopped = false;
  return {
    host,
    labHost,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await forget("its");
      } finally {
        host.stop();
        log(`sandbox: ${labHost.name} removed`);
      }
    },
  };
}
