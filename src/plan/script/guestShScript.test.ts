import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellcheck } from "../../../test/support/shellcheck";
import { body, scriptFile } from "./files";
import { guestShScript } from "./guestShScript";

const GUEST_LIB = body(scriptFile(__dirname, "guest-lib.sh"));

describe("the guest's JSON encoding (dash, with each awk a guest may have)", () => {
  // Backslashes first: mawk turned "a\\b" into the JSON escape \b (a backspace) before.
  const hostile = ["a\\b \\n \\\\ \\", "say \"hi\"\tthen\r", "ünï’cødé $(id) `id` '", "bell\u0007 esc\u001b nul-free"];
  const awks: [string, string][] = [["mawk", "/usr/bin/mawk"], ["busybox awk", "/usr/bin/busybox"]];

  for (const [name, binary] of awks) {
    it(`round-trips hostile text through ol_json_string and ol_json_lines with ${name}`, () => {
      const bin = fs.mkdtempSync(path.join(os.tmpdir(), "ol-awk-"));
      try {
        fs.symlinkSync(binary, path.join(bin, "awk"));
        const run = (fn: string, input: string) => {
          const r = spawnSync("dash", ["-c", `${GUEST_LIB}\n${fn}`], {
            input, encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` },
          });
          expect(r.stderr).toBe("");
          return JSON.parse(r.stdout) as unknown;
        };
        const clean = (t: string) => t.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");
        for (const text of hostile) expect(run("ol_json_string", text)).toBe(clean(text));
        expect(run("ol_json_string", hostile.join("\n"))).toBe(clean(hostile.join("\n")));
        expect(run("ol_json_lines", hostile.join("\n") + "\n")).toEqual(hostile.map(clean));
      } finally {
        fs.rmSync(bin, { recursive: true });
      }
    });
  }
});

describe("guestShScript", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-sh-"));
    fs.writeFileSync(path.join(dir, "lib.sh"), "# shellcheck shell=sh\nfrom_lib=\"lib saw $VALUE\"\n");
    fs.writeFileSync(path.join(dir, "body.sh"), "# shellcheck shell=sh\nprintf '%s|%s\\n' \"$from_lib\" \"$(printf '%s' \"$VALUE\" | ol_json_string)\"\n");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("binds the values, then the JSON functions, the libraries and the body, for sh", () => {
    const hostile = "x'$(touch /tmp/ol-pwned-sh)`id`\n\"y\" \\ ;";
    const script = guestShScript({ step: "t", file: scriptFile(dir, "body.sh"), libraries: [scriptFile(dir, "lib.sh")], values: { VALUE: hostile } });
    expect(shellcheck(script, "sh")).toEqual([]);
    const r = spawnSync("dash", ["-s"], { input: script, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`lib saw ${hostile}|${JSON.stringify(hostile)}\n`);
    expect(fs.existsSync("/tmp/ol-pwned-sh")).toBe(false);
  });
});
