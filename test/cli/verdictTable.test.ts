import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");
const REPORT = path.join(ROOT, "test", "golden", "report", "report.md");

describe("the main job's verdict print (scripts/verdict-table.sh)", () => {
  it("prints the report's USO on vs off section whole, and nothing after it", () => {
    const out = execFileSync("bash", [path.join(ROOT, "scripts", "verdict-table.sh"), REPORT], { encoding: "utf8" });
    const report = fs.readFileSync(REPORT, "utf8");
    const start = report.indexOf("## USO on vs off\n");
    const section = report.slice(start, report.indexOf("\n## ", start) + 1);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(section).toMatch(/^\| OS \| MTU \| payload \(B\) \| sender \| host \| measure \| n off\/on \| mean off → on \| on\/off \[95 % CI\] \| precision \| verdict \| loss % off → on/m);
    expect(out).toBe(section);
  });
});
