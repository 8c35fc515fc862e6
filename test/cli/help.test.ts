import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXAMPLE_LINES } from "../../src/cli/helpText";
import { main } from "../../src/cli/main";

const ROOT = path.resolve(__dirname, "..", "..");
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-help-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["node", "offload-lab", ...args], { io: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const examplesIn = (help: string) => help.split("\n").filter((l) => l.startsWith("  $ ")).map((l) => l.slice(4));

describe("--version", () => {
  it("prints the version of package.json and exits 0", async () => {
    expect(await run("--version")).toEqual({ code: 0, out: `offload-lab ${VERSION}`, err: "" });
    expect((await run("-V")).out).toBe(`offload-lab ${VERSION}`);
  });

  it("works as the installed command", () => {
    const r = spawnSync("node", [path.join(ROOT, "bin", "offload-lab.js"), "--version"], { cwd: tmp, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`offload-lab ${VERSION}\n`);
  });
});

describe("help examples are typed as a shell needs them", () => {
  const helps = [["--help"], ["report", "--help"], ["sweep", "--help"]];

  it.each(helps)("%s %s shows examples", async (...args) => {
    const r = await run(...args);
    expect(r.code).toBe(0);
    expect(examplesIn(r.out).length).toBeGreaterThan(0);
    expect(r.out).toContain("Quote an argument holding > < | & ; $ or a space");
  });

  it.each(helps)("bash passes every argument of %s %s through unchanged and creates no file", async (...args) => {
    for (const line of examplesIn((await run(...args)).out)) {
      const cwd = fs.mkdtempSync(path.join(tmp, "sh-"));
      // The example with the command replaced by one that prints its arguments, one per line.
      const printed = execFileSync("bash", ["-c", line.replace(/^offload-lab /, "printf '%s\\n' ")], { cwd, encoding: "utf8" });
      expect(fs.readdirSync(cwd), line).toEqual([]);
      const rule = /--fail-if '([^']+)'/.exec(line)?.[1];
      if (rule !== undefined) expect(printed.split("\n")).toContain(rule);
    }
  });

  it("the same rule typed unquoted is what creates the file (why the quotes are shown)", () => {
    const cwd = fs.mkdtempSync(path.join(tmp, "sh-"));
    execFileSync("bash", ["-c", "printf '%s\\n' --fail-if throughput-drop:uso>5%"], { cwd });
    expect(fs.readdirSync(cwd)).toEqual(["5%"]);
  });

  it("the README's CLI section shows the examples of --help", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## The CLI"));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const lines = block.split("\n").filter((l) => l.startsWith("npx offload-lab ")).map((l) => l.replace(/^npx /, "").replace(/\s+#.*$/, ""));
    expect(lines).toEqual([...EXAMPLE_LINES]);
  });
});

describe("a --fail-if rule the shell cut short", () => {
  it("exits 2 saying the shell took >LIMIT and how to quote it", async () => {
    const r = await run("report", tmp, "--out", path.join(tmp, "rep"), "--fail-if", "throughput-drop:uso");
    expect(r.code).toBe(2);
    expect(r.err).toContain("'throughput-drop:uso' is invalid. It has no >LIMIT. Typed unquoted, the shell takes >5% as a redirection (and creates a file named 5%): quote the rule, e.g. --fail-if 'throughput-drop:uso>5%'");
    expect(fs.existsSync(path.join(tmp, "rep"))).toBe(false);
  });
});
