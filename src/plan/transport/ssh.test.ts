import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretValue } from "../../config/secret";
import { validateLab } from "../../config/validate";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { guestStepCommand } from "../guestStep";
import { GUEST_SSH_KEY_ENV, sshTransport, transportFor } from ".";
import { POWERSHELL_ARGV } from "./powershellLoader";

// The SSH transport against a fake ssh (test/fixtures/agent/ssh/ssh) that records what it was given and runs the script
// locally: this checks the key handling, the arguments and the exit-code path; a real sshd
// is the lab test's job.

const FAKE = path.join(__dirname, "..", "..", "..", "test", "fixtures", "agent", "ssh");
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA 'quoted' $(not run)\n-----END OPENSSH PRIVATE KEY-----";
const tempDirs: string[] = [];
afterEach(() => {
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function runSsh(script: string, opts: { os?: "linux" | "windows"; key?: string; unreachable?: boolean } = {}) {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "ol-ssh-"));
  tempDirs.push(state);
  const t = sshTransport({ address: "10.77.0.10", user: "root", port: 2222, os: opts.os ?? "linux", timeoutSeconds: 2 });
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${FAKE}:${process.env.PATH}`, FAKE_SSH_STATE: state };
  if (opts.key !== undefined) env[GUEST_SSH_KEY_ENV] = opts.key;
  if (opts.unreachable) env.FAKE_SSH_UNREACHABLE = "1";
  const r = spawnSync("bash", ["-c", guestStepCommand(t, script)], { encoding: "utf8", env });
  const log = fs.existsSync(path.join(state, "calls.log")) ? fs.readFileSync(path.join(state, "calls.log"), "utf8") : "";
  const keyfile = fs.existsSync(path.join(state, "keyfile")) ? fs.readFileSync(path.join(state, "keyfile"), "utf8").trim() : null;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, log, keyfile };
}

describe("ssh transport (fake ssh)", () => {
  it("writes the key to a 0600 file, runs sh -s on the guest, and removes the key", () => {
    const r = runSsh("echo out; echo err >&2; exit 7\n", { key: KEY });
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toContain("err");
    expect(r.status).toBe(7);
    expect(r.log).toContain("KEYMODE 600");
    expect(r.log).toContain(`KEY ${KEY}`);
    expect(r.log).toContain("[-p] [2222]");
    expect(r.log).toContain("[root@10.77.0.10]");
    expect(r.log).toContain("[BatchMode=yes]");
    expect(r.log).toContain("REMOTE /bin/sh -s");
    expect(r.keyfile).not.toBeNull();
    expect(fs.existsSync(r.keyfile!)).toBe(false);
  });

  it("starts PowerShell on the stdin loader for a Windows guest", () => {
    const r = runSsh("true\n", { key: KEY, os: "windows" });
    expect(r.log).toContain(`REMOTE ${POWERSHELL_ARGV.join(" ")}`);
  });

  it("refuses to run without the key", () => {
    const r = runSsh("echo never\n");
    expect(r.status).toBe(126);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${GUEST_SSH_KEY_ENV} is empty`);
  });

  it("gives up on a guest it cannot reach, with ssh's reason, and removes the key", () => {
    const r = runSsh("echo never\n", { key: KEY, unreachable: true });
    expect(r.status).toBe(124);
    expect(r.stderr).toContain("did not succeed within 2 s");
    expect(r.stderr).toContain("No route to host");
    expect(r.log).not.toContain("REMOTE");
    expect(r.keyfile).not.toBeNull();
    expect(fs.existsSync(r.keyfile!)).toBe(false);
  });

  it("is the transport for guest.access ssh, at the guest's address", () => {
    const cfg = validateLab("t", {
      network: { mode: "dedicated", cidr: "10.77.0.0/24", guestAddress: "10.77.0.10" },
      guest: { os: "linux", name: "g1", baseImage: "/i.qcow2", access: "ssh", ssh: { user: "lab", port: 2200 } },
      guestSshPrivateKey: new SecretValue("offload-lab:guestSshPrivateKey"),
    });
    expect(transportFor(cfg).description).toBe("ssh lab@10.77.0.10:2200");
  });

  it("says what it needs: the key as a secret, read by ssh.sh under the same name, and ssh on the host", () => {
    const t = sshTransport({ address: "10.77.0.10", user: "root", port: 22, os: "linux", timeoutSeconds: 2 });
    expect(t.kind).toBe("ssh");
    expect(t.secretEnv).toEqual({ OFFLOAD_LAB_GUEST_SSH_KEY: "guestSshPrivateKey" });
    expect(Object.keys(t.secretEnv)).toEqual([GUEST_SSH_KEY_ENV]);
    expect(t.hostTools).toEqual(["ssh"]);
    // The key arrives under the declared name: "writes the key to a 0600 file" above runs it.
    expect(shellcheck(guestStepCommand(t, "true\n"), "bash")).toEqual([]);
  });

  it("binds a hostile user and address as one ssh argument", () => {
    const hostile = "root@10.77.0.10 -oProxyCommand=touch${IFS}/tmp/ol-pwned-ssh $(id) `id` ';";
    const t = sshTransport({ address: hostile, user: "lab", port: 22, os: "windows", timeoutSeconds: 2 });
    expect(boundValue(t.functionDefinition, "OL_SSH_TARGET")).toBe(`lab@${hostile}`);
    expect(boundValue(t.functionDefinition, "OL_SSH_REMOTE")).toBe(POWERSHELL_ARGV.join(" "));
    expect(shellcheck(guestStepCommand(t, "true\n"), "bash")).toEqual([]);
  });
});
