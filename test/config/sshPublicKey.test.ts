import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { isSshPublicKeyLine, SSH_PUBLIC_KEY_MAX_LENGTH } from "../../src/config/sshPublicKey";
import { validateLab } from "../../src/config/validate";

// Keys made by ssh-keygen here, never typed: what a user pastes from id_*.pub.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-sshkey-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
function publicKey(type: string, bits?: number): string {
  const file = path.join(tmp, `id_${type}${bits ?? ""}`);
  execFileSync("ssh-keygen", ["-q", "-t", type, ...(bits ? ["-b", String(bits)] : []), "-N", "", "-C", "qe@lab-host", "-f", file]);
  return fs.readFileSync(`${file}.pub`, "utf8").trimEnd();
}
const ed25519 = publicKey("ed25519");
const rsa = publicKey("rsa", 3072);
const ecdsa = publicKey("ecdsa", 384);
const [edType, edBlob] = ed25519.split(" ") as [string, string];
const rsaBlob = rsa.split(" ")[1]!;

const linuxGuest = { os: "linux", name: "g1", baseImage: "/images/base.qcow2" };

function keyProblem(raw: Record<string, unknown>): { key: string; value: unknown; allowed: string } | undefined {
  try {
    validateLab("t", raw);
    return undefined;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.find((p) => p.key === "offload-lab:guest.ssh.authorizedKey");
  }
}

describe("an SSH public key line (guest.ssh.authorizedKey)", () => {
  it.each([
    ["ed25519 with a comment", ed25519],
    ["RSA 3072", rsa],
    ["ECDSA P-384", ecdsa],
    ["ed25519 without a comment", `${edType} ${edBlob}`],
    ["a comment with spaces and XML specials", `${edType} ${edBlob} QE <lab> & 'co' "x", y]]>`],
  ])("takes %s", (_, line) => {
    expect(isSshPublicKeyLine(line)).toBe(true);
  });

  it.each([
    ["a second key after a line break", `${ed25519}\n${rsa}`],
    ["a trailing line break", `${ed25519}\n`],
    ["a carriage return in the comment", `${ed25519}\rx`],
    ["a NUL in the comment", `${ed25519}\u0000x`],
    ["authorized_keys options before the type", `command="/bin/sh -c id",no-pty ${ed25519}`],
    ["one option word before the type", `restrict ${ed25519}`],
    ["a blob of another type than named", `ssh-rsa ${edBlob}`],
    ["an ed25519 name over an RSA blob", `ssh-ed25519 ${rsaBlob}`],
    ["an unknown type", `ssh-dss ${edBlob}`],
    ["a blob that is not base64", `${edType} ${edBlob.slice(0, -4)}!!!!`],
    ["a truncated blob (length not a multiple of 4)", `${edType} ${edBlob.slice(0, -1)}`],
    ["a blob that is only its type name", `${edType} ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519")]).toString("base64")}`],
    ["a leading space", ` ${ed25519}`],
    ["two spaces after the type", `${edType}  ${edBlob}`],
    ["an empty string", ""],
    ["a private key", "-----BEGIN OPENSSH PRIVATE KEY-----"],
    ["a line longer than the limit", `${ed25519} ${"x".repeat(SSH_PUBLIC_KEY_MAX_LENGTH)}`],
  ])("refuses %s", (_, line) => {
    expect(isSshPublicKeyLine(line)).toBe(false);
  });

  it("is refused in the config naming the key, the value and what is allowed", () => {
    const hostile = `${ed25519}\nssh-ed25519 AAAA attacker`;
    const p = keyProblem({ guest: { ...linuxGuest, ssh: { authorizedKey: hostile } } });
    expect(p).toMatchObject({ value: hostile });
    expect(p!.allowed).toMatch(/^must be one OpenSSH public key line as in id_ed25519\.pub: TYPE BASE64 \[COMMENT\].*no authorized_keys options, no line break/);
    expect(keyProblem({ guest: { ...linuxGuest, ssh: { authorizedKey: 42 } } })?.allowed).toMatch(/^must be one OpenSSH public key line/);
  });

  it("is carried into the config as given, for root of a Linux guest", () => {
    const cfg = validateLab("t", { guest: { ...linuxGuest, ssh: { authorizedKey: ed25519 } } });
    expect(cfg.guest.ssh).toMatchObject({ user: "root", authorizedKey: ed25519 });
    expect(validateLab("t", { guest: linuxGuest }).guest.ssh.authorizedKey).toBeUndefined();
  });

  it("is refused for another user than root, whose key the credential cannot provision", () => {
    const p = keyProblem({ guest: { ...linuxGuest, ssh: { user: "qe", authorizedKey: ed25519 } } });
    expect(p!.allowed).toBe("is root's key (the systemd credential ssh.authorized_keys.root), but guest.ssh.user is qe: log in as root, or put qe's key into the guest image");
  });

  it("is refused for a Windows guest", () => {
    const p = keyProblem({ guest: { os: "windows", name: "w1", baseImage: "/w.qcow2", virtioWinIso: "/v.iso", ssh: { authorizedKey: ed25519 } } });
    expect(p!.allowed).toMatch(/^is only for a Linux guest with systemd >= 252/);
  });
});
