import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { quote } from "shell-quote";
import { sshArgv } from "../provider/remote";
import type { LabHost } from "./pool";

const TIMEOUT_MS = 60_000;

/**
 * Asks a host whether it can take a lab: an SSH login (as the lab's steps make it, through the
 * provider's own ssh argv) that runs `virsh -c URI version --daemon`. Null when both answer,
 * else the reason: unreachable over SSH, or libvirtd not answering. The key goes to a private
 * temporary file for the call, never onto a command line.
 */
export async function probeHost(host: LabHost, libvirtUri: string): Promise<string | null> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-probe-"));
  try {
    const key = path.join(dir, "key");
    const text = host.privateKey();
    fs.writeFileSync(key, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 });
    const argv = sshArgv(
      {
        host: host.address,
        port: host.port,
        user: host.user,
        perDialTimeout: 15,
        proxy: host.jump && { host: host.jump.address, port: host.jump.port, user: host.jump.user },
      },
      quote(["virsh", "-c", libvirtUri, "version", "--daemon"]),
      key,
      host.jump ? key : undefined,
    );
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"], timeout: TIMEOUT_MS });
      let err = "";
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
      child.on("error", (e) => resolve({ code: null, stderr: e.message }));
      child.on("close", (c) => resolve({ code: c, stderr: err }));
    });
    const said = stderr.split("\n").map((l) => l.trim()).filter(Boolean).join("; ") || "no answer";
    if (code === 0) return null;
    if (code === 255 || code === null) return `unreachable over SSH (${host.user}@${host.address}:${host.port}): ${said}`;
    return `libvirtd does not answer (virsh -c ${libvirtUri}): ${said}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
