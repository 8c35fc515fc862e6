import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellcheck } from "../../test/support/shellcheck";
import { sh, shArgs } from "./quote";

describe("sh", () => {
  const values = [
    "qemu:///system", "52:54:00:aa:bb:cc", "a=b", "x^y", "plain", "", 42, "C:\\iperf3\\iperf3.exe",
    "it's", "x'$(touch /tmp/ol-pwned)`id`\n\"y\" \\ ;", "a b:c", "!bang:'q'", "x:~/y", "*:?[a]",
  ];

  // "x:~/y" too: in an assignment an unquoted ~ after a colon expands.
  it.each(values)("binds %j as exactly itself in bash and dash, with no shellcheck finding", (value) => {
    const script = `V=${sh(value)}\nprintf '%s' "$V"\n`;
    for (const shell of ["bash", "dash"]) {
      const r = spawnSync(shell, ["-c", script], { encoding: "utf8" });
      expect(r.stdout).toBe(String(value));
    }
    expect(shellcheck(script, "bash")).toEqual([]);
    expect(shellcheck(script, "sh")).toEqual([]);
  });

  it("leaves a word bare only when no shell character is in it", () => {
    expect(sh("qemu:///system")).toBe("qemu:///system");
    expect(sh("plain-word_1.2/x")).toBe("plain-word_1.2/x");
    expect(sh("x:~/y")).toBe('"x:~/y"');
    expect(sh("")).toBe('""');
  });

  it("makes each of several values exactly one argument", () => {
    const r = spawnSync("bash", ["-c", `printf '<%s>' ${shArgs(["a b", "", "$x", "'q'"])}`], { encoding: "utf8" });
    expect(r.stdout).toBe("<a b><><$x><'q'>");
  });
});
