import { spawnSync } from "node:child_process";

/**
 * ShellCheck's findings for a script given as text (read from stdin), in its gcc format:
 * one `-:LINE:COL: level: message [SCxxxx]` line each; empty when it is clean. `shell` is the
 * shell that will run it: bash on the host, sh (dash, busybox) in a Linux guest.
 */
export function shellcheck(text: string, shell: "bash" | "sh"): string[] {
  const r = spawnSync("shellcheck", ["--format=gcc", `--shell=${shell}`, "--external-sources", "-"], { input: text, encoding: "utf8" });
  if (r.error !== undefined) throw new Error(`shellcheck could not run (install it: apt-get install shellcheck): ${r.error.message}`);
  if (r.status !== 0 && r.stdout.trim() === "") throw new Error(`shellcheck failed: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.trim() !== "");
}

/**
 * What bash makes of the assignment `NAME=…` in a generated script: the assignment (with as
 * many following lines as its quoting spans) is run alone and the variable printed, so a
 * test sees the value a host would bind, not its quoting.
 */
export function boundValue(script: string, name: string): string {
  return bound(script, name, `printf %s "$${name}"`);
}

/** Like boundValue, for an array `NAME=(…)`: its elements as bash sees them. */
export function boundList(script: string, name: string): string[] {
  // One printf per element: printf with no argument left would still print its format once.
  const out = bound(script, name, `for e in "\${${name}[@]}"; do printf '%s\\0' "$e"; done`);
  return out === "" ? [] : out.slice(0, -1).split("\0");
}

function bound(script: string, name: string, print: string): string {
  const lines = script.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`${name}=`));
  if (start < 0) throw new Error(`no assignment of ${name} in the script`);
  for (let end = start + 1; end <= lines.length; end++) {
    const assignment = lines.slice(start, end).join("\n");
    if (spawnSync("bash", ["-n", "-c", assignment]).status !== 0) continue;
    const r = spawnSync("bash", ["-c", `${assignment}\n${print}`], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`bash could not run ${JSON.stringify(assignment)}: ${r.stderr}`);
    return r.stdout;
  }
  throw new Error(`the assignment of ${name} never ends`);
}
