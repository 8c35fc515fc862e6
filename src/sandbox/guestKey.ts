import * as fs from "node:fs";
import * as path from "node:path";
import type { GuestKeyPair } from "../hosts/pool";
import { run } from "./netns";

/**
 * The key pair a sandbox lends to its stacks that reach their guest over SSH (sandbox-ssh):
 * ed25519, made when the sandbox starts, in the sandbox's own state folder (`stateDir`, which
 * its stop removes), never in the repository. The public half becomes root's authorized_keys
 * in the guest, the private half the ssh transport's secret (src/engine/target.ts).
 */
export function makeGuestKey(stateDir: string): GuestKeyPair {
  const dir = path.join(stateDir, "guest-key");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, "id_ed25519");
  for (const f of [file, `${file}.pub`]) fs.rmSync(f, { force: true });
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "offload-lab-sandbox-guest", "-f", file]);
  // ssh-keygen ends the line with a newline, which guest.ssh.authorizedKey refuses (one line only).
  const publicKey = fs.readFileSync(`${file}.pub`, "utf8").trimEnd();
  return { publicKey, privateKey: () => fs.readFileSync(file, "utf8") };
}
