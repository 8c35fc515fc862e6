import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellcheck } from "../../../test/support/shellcheck";
import { boundWord } from "./values";

describe("boundWord", () => {
  const values = [
    "qemu:///system", "52:54:00:aa:bb:cc", "a=b", "x^y", "plain", "", 42, "C:\\iperf3\\iperf3.exe",
    "it's", "x'$(touch /tmp/ol-pwned)`id`\n\"y\" \\ ;", "a b:c", "!bang:'q'", "x:~/y", "*:?[a]",
  ];

  // "x:~/y" too: in an assignment an unquoted ~ after a colon expands.
  it.each(values)("binds %j as exactly itself in bash and dash, with no shellcheck finding", (value) => {
    const script = `V=${boundWord(value)}\nprintf '%s' "$V"\n`;
    for (const shell of ["bash", "dash"]) {
      const r = spawnSync(shell, ["-c", script], { encoding: "utf8" });
      expect(r.stdout).toBe(String(value));
    }
    expect(shellcheck(script, "bash")).toEqual([]);
    expect(shellcheck(script, "sh")).toEqual([]);
  });

  it("single-quotes what shell-quote would escape with backslashes", () => {
    expect(boundWord("qemu:///system")).toBe("'qemu:///system'");
    expect(boundWord("plain-word_1.2/x")).toBe("plain-word_1.2/x");
  });
});
