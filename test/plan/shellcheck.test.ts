import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { renderPlan } from "../../src/cli/render";
import { planLab } from "../../src/plan/lab";
import { shellcheck } from "../support/shellcheck";
import { everyStack, PROJECT } from "../support/stacks";

/** Every shell file kept in src/, with the shell it is written for. */
function shellFiles(dir: string): { file: string; shell: "bash" | "sh" }[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return shellFiles(file);
    if (!e.name.endsWith(".sh")) return [];
    const head = fs.readFileSync(file, "utf8").split("\n", 2).join("\n");
    const shell = /^#!.*\bbash\b|# shellcheck shell=bash/.test(head) ? "bash" : "sh";
    return [{ file, shell }];
  });
}

describe("shellcheck", () => {
  const files = shellFiles(path.join(PROJECT, "src"));

  it("finds the scripts kept as files", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [path.relative(PROJECT, f.file), f.shell] as const))("%s (%s) has no finding", (rel, shell) => {
    expect(shellcheck(fs.readFileSync(path.join(PROJECT, rel), "utf8"), shell)).toEqual([]);
  });

  for (const cfg of everyStack()) {
    it(`every script rendered for ${cfg.stack} has no finding`, () => {
      const files = renderPlan(cfg, planLab(cfg));
      const findings: string[] = [];
      for (const [name, text] of files) {
        if (!name.endsWith(".sh")) continue;
        // A Linux guest's own script runs under /bin/sh (its first line says so; a host script may
        // carry one bound as a value, e.g. the benchmark's USO switch); everything else under bash.
        const shell = /^\d+-[a-z0-9-]+\.sh$/.test(name) && /^# offload-lab .* \(Linux guest\):/.test(text) ? "sh" : "bash";
        findings.push(...shellcheck(text, shell).map((f) => `${name}: ${f}`));
      }
      expect(findings).toEqual([]);
    });
  }
});
