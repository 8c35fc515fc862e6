import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StackFileError } from "../../src/config/errors";
import { SecretValue } from "../../src/config/secret";
import { loadStack, settingsFromStackYaml, stackFileText } from "../../src/config/stackFile";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-stackfile-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StackFileError);
    return (e as Error).message;
  }
  throw new Error("expected the stack file to be refused");
}

describe("a stack file with no settings to check is refused as a whole, in plain words", () => {
  const needs = "a stack needs at least offload-lab:guest with os, name and baseImage";
  it.each([
    ["empty", ""],
    ["blank lines", "\n\n"],
    ["only a comment", "# a stack\n"],
  ])("%s", (_what, text) => {
    const m = refusal(() => settingsFromStackYaml(text, "stacks/Pulumi.x.yaml"));
    expect(m).toBe(`stacks/Pulumi.x.yaml is empty: ${needs} (see the README's config reference and the files in stacks/)`);
    expect(m).not.toMatch(/expected object|received undefined/);
  });

  it.each([
    ["no config", "encryptionsalt: abc\n", "has no config: map"],
    ["config is a list", "config:\n  - offload-lab:guest\n", "has no config: map"],
    ["config is text", "config: yes\n", "has no config: map"],
    ["a list, not a map", "- a\n- b\n", "has no config: map"],
    ["only other namespaces", "config:\n  aws:region: eu-west-1\n", "has no offload-lab: settings under config:"],
  ])("%s", (_what, text, says) => {
    const m = refusal(() => settingsFromStackYaml(text, "stacks/Pulumi.x.yaml"));
    expect(m).toContain(`stacks/Pulumi.x.yaml ${says}`);
    expect(m).toContain(needs);
  });

  it("names a YAML error by what and where, without quoting the file", () => {
    expect(refusal(() => settingsFromStackYaml("config:\n  offload-lab:network.mtu: [9000\n", "f.yaml"))).toMatch(/^f\.yaml: not valid YAML: .+ at line \d+, column \d+$/);
    expect(refusal(() => settingsFromStackYaml("config:\n  offload-lab:guest: {}\n  offload-lab:guest: {}\n", "f.yaml")))
      .toBe("f.yaml: not valid YAML: Map keys must be unique at line 3, column 3");
  });

  it("refuses an unknown tag, which would change what a value means, rather than warn", () => {
    expect(refusal(() => settingsFromStackYaml("config:\n  offload-lab:guest: !secret {os: linux}\n", "f.yaml")))
      .toBe("f.yaml: not valid YAML: Unresolved tag: !secret at line 2, column 22");
  });

  it("refuses an alias bomb as invalid YAML, not as a fault", () => {
    let text = "config:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
    for (let i = 1; i <= 8; i++) text += `  a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(", ")}]\n`;
    expect(refusal(() => settingsFromStackYaml(`${text}  offload-lab:guest: *a8\n`, "f.yaml")))
      .toBe("f.yaml: not valid YAML: Excessive alias count indicates a resource exhaustion attack");
  });

  it("reads secure values as secrets and keys without a namespace as offload-lab's", () => {
    const raw = settingsFromStackYaml("config:\n  offload-lab:hostSshPrivateKey:\n    secure: v1:abc\n  guest: {os: linux}\n  other:x: 1\n");
    expect(raw.hostSshPrivateKey).toBeInstanceOf(SecretValue);
    expect(raw.guest).toEqual({ os: "linux" });
    expect(Object.keys(raw)).toEqual(["hostSshPrivateKey", "guest"]);
  });
});

describe("a binary stack file is refused by the offending byte, never echoed", () => {
  it.each([
    ["an ELF header", Buffer.from("\u007fELF\u0002\u0001\u0001\u0000", "latin1"), "byte 0x7f at offset 0"],
    ["a terminal escape in a value", Buffer.from("config:\n  offload-lab:guest: \u001b]0;pwned\u0007\u001b[2J\n", "latin1"), "byte 0x1b at offset 29"],
    ["a NUL", Buffer.from("config:\u0000\n", "latin1"), "byte 0x00 at offset 7"],
    ["bytes that are not UTF-8 (a C1 CSI in Latin-1)", Buffer.from([0x63, 0x6f, 0x9b, 0x33, 0x31, 0x6d]), "bytes that are not UTF-8"],
  ])("%s", (_what, bytes, why) => {
    const m = refusal(() => stackFileText(bytes, "stacks/Pulumi.bin.yaml"));
    expect(m).toBe(`stacks/Pulumi.bin.yaml: not a text file (${why}); a stack file is YAML text`);
  });

  it("takes UTF-8 text with tabs and CRLF line ends", () => {
    expect(stackFileText(Buffer.from("config:\r\n  # Grüße\tok\r\n"), "f")).toBe("config:\r\n  # Grüße\tok\r\n");
  });

  it("loadStack refuses a file of random bytes the same way", () => {
    const dir = path.join(tmp, "p");
    fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
    // Bytes 0x00..0xff in a fixed shuffle: a control byte comes early, as in any binary file.
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.rand.yaml"), Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 167 + 13) % 256)));
    expect(refusal(() => loadStack(dir, "rand"))).toMatch(/Pulumi\.rand\.yaml: not a text file \(byte 0x[0-9a-f]{2} at offset \d+\); a stack file is YAML text$/);
  });
});
