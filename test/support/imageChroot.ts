import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Transport } from "../../src/plan/transport/transport";
import { ensureGuestImage } from "../../src/sandbox/guest-image/image";
import type { Namespace } from "../../src/sandbox/netns";

/** The lab's guest image, opened as a root filesystem for a namespace to run programs from. */
export interface ImageRoot {
  /** A guest transport: the script runs in `guest`'s network namespace, chrooted into the image. */
  transport(guest: Namespace): Transport;
  /** argv prefix that runs a program from the image in `guest`'s network namespace. */
  argv(guest: Namespace): string[];
  remove(): void;
}

/**
 * The guest image (iperf3 3.22 and its trixie libc; the host's bookworm libc cannot run it) as
 * a raw copy, loop-mounted read-only in a private mount namespace per command, with /dev bound
 * (iperf3 reads urandom), /sys and /proc (the namespace's interfaces, for the guest scripts)
 * and a tmpfs /tmp (iperf3's stream buffer file). Nothing stays mounted.
 */
export async function openImageRoot(): Promise<ImageRoot> {
  const image = await ensureGuestImage();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ol-image-root-"));
  const raw = path.join(work, "root.raw");
  const root = path.join(work, "root");
  execFileSync("qemu-img", ["convert", "-O", "raw", image.baseImage, raw]);
  fs.mkdirSync(root);
  const mounts = `mount -o ro,loop ${raw} ${root} && mount --bind /dev ${root}/dev && mount --bind /sys ${root}/sys && mount --bind /proc ${root}/proc && mount -t tmpfs tmpfs ${root}/tmp`;
  const inside = (guest: Namespace, command: string) => ["ip", "netns", "exec", guest.name, "unshare", "-m", "--propagation", "private", "sh", "-c", `${mounts} && exec chroot ${root} ${command}`];
  return {
    transport: (guest) => ({
      kind: "netns",
      secretEnv: {},
      hostTools: ["ip", "unshare"],
      description: `netns ${guest.name}, chroot into the guest image`,
      functionDefinition: `guest_exec() { ip netns exec ${guest.name} unshare -m --propagation private sh -c '${mounts} && exec chroot ${root} sh -s'; }`,
    }),
    argv: (guest) => inside(guest, '"$0" "$@"'),
    remove: () => fs.rmSync(work, { recursive: true, force: true }),
  };
}
