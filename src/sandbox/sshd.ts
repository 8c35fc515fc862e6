import * as fs from "node:fs";
import * as path from "node:path";
import type { Libvirtd } from "./libvirtd";
import { run } from "./netns";

/**
 * An sshd inside a namespaced libvirtd's network and mount namespaces, so a login runs where
 * `qemu:///system` is that daemon: the KVM host a `host.connection: ssh` stack reaches. It
 * listens only on `address` (the sandbox end of its veth) and accepts only `publicKey`, for root.
 */
export class Sshd {
  private constructor(
    readonly pid: number,
    /** sshd's own log: one "Accepted publickey" line per connection, i.e. per remote command. */
    readonly logFile: string,
  ) {}

  /** How many logins the sandbox has accepted so far. */
  logins(): number {
    return (fs.readFileSync(this.logFile, "utf8").match(/Accepted publickey/g) ?? []).length;
  }

  static start(lv: Libvirtd, address: string, port: number, publicKey: string): Sshd {
    const dir = path.join(lv.dir, "sshd");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Started again on the same host (a test brings a stopped host back): a fresh host key and pid file.
    for (const f of ["host_key", "host_key.pub"]) fs.rmSync(path.join(dir, f), { force: true });
    fs.rmSync(path.join(lv.dir, "run", "sshd-sandbox.pid"), { force: true });
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
    fs.writeFileSync(path.join(dir, "authorized_keys"), publicKey, { mode: 0o600 });
    const pidFile = path.join(lv.dir, "run", "sshd-sandbox.pid");
    fs.writeFileSync(
      path.join(dir, "sshd_config"),
      [
        `ListenAddress ${address}:${port}`,
        `HostKey ${path.join(dir, "host_key")}`,
        `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
        `PidFile ${pidFile}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        // Its files sit under the daemon's folder in /tmp, which StrictModes refuses (world-writable parent).
        "StrictModes no",
        // The lab's steps are long; keep an idle-looking session (a quiet matrix cell) alive.
        "ClientAliveInterval 30",
        "MaxStartups 50",
        "MaxSessions 50",
        "LogLevel VERBOSE",
        "",
      ].join("\n"),
    );
    // sshd's privilege separation folder lives in /run, which is the daemon's private one.
    lv.exec(["mkdir", "-p", "/run/sshd"]);
    const logFile = path.join(dir, "sshd.log");
    lv.exec(["/usr/sbin/sshd", "-f", path.join(dir, "sshd_config"), "-E", logFile]);
    // The file appears before its content: wait for a pid, never read an empty file as 0 (a
    // signal to pid 0 would go to this whole process group).
    const until = Date.now() + 10_000;
    for (;;) {
      const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8").trim()) : NaN;
      if (Number.isInteger(pid) && pid > 0) return new Sshd(pid, logFile);
      if (Date.now() > until) throw new Error("sandbox sshd did not start");
      run("sleep", ["0.1"]);
    }
  }
}
