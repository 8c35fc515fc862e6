import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FAULT_EXIT } from "../../src/cli/errors";
import { main, type MainDeps } from "../../src/cli/main";

const ROOT = path.resolve(__dirname, "..", "..");
const MANUAL = path.join(ROOT, "test", "fixtures", "iperf3", "manual");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-cli-errors-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A line of a JavaScript stack trace: what a user must never see for a mistake of theirs. */
const STACK_LINE = /^\s+at .+(\(|:\d+)/m;

async function run(args: string[], deps: Partial<MainDeps> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["node", "offload-lab", ...args], { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, ...deps });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function project(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(tmp, "project-"));
  fs.mkdirSync(path.join(dir, "stacks"));
  fs.writeFileSync(path.join(dir, "stacks", "Pulumi.s.yaml"), yaml);
  return dir;
}

const notJson = path.join(tmp, "not-results.json");
fs.writeFileSync(notJson, "{ this is not JSON");
const badYaml = project("config:\n  offload-lab:network.mtu: [9000\n");
const emptyStack = project("");
// An ELF header, then a terminal escape that would clear the screen if it were echoed.
const binaryStack = project("\u007fELF\u0002\u0001\u0001\u0000\u001b[2J\u001b]0;pwned\u0007");
const badValue = project(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.mtu9000-uso-on.yaml"), "utf8").replace("mtu: 9000", "mtu: 70000"));
const out = (name: string) => path.join(tmp, name);
const emptyFolder = path.join(tmp, "no-results");
fs.mkdirSync(emptyFolder);

// [subcommand, arguments, what the message must name]
const BAD_INPUT: ReadonlyArray<[string, string[], RegExp]> = [
  ["render", ["render", "--out", out("r")], /required option '--stack <name>'/],
  ["render", ["render", "--stack", "nope", "--out", out("r")], /--stack nope: there is no stacks\/Pulumi\.nope\.yaml\nStacks in .*mtu9000-uso-on/],
  ["render", ["--project", badYaml, "render", "--stack", "s", "--out", out("r")], /Pulumi\.s\.yaml: not valid YAML: /],
  ["render", ["--project", badValue, "render", "--stack", "s", "--out", out("r")], /offload-lab:network\.mtu: must be a whole number from 68 to 65535 \(given: 70000\)/],
  ["render", ["--project", path.join(tmp, "absent"), "render", "--stack", "s", "--out", out("r")], /No stacks\/ folder in .*absent: pass --project <dir>/],
  ["render", ["render", "--stack", "mtu9000-uso-on", "--out", out("r"), "--colour"], /unknown option '--colour'/],
  ["render", ["render", "--stack", "linux-uso-on", "--out", ""], /^--out is empty: give the folder to write into$/],
  ["render", ["--project", emptyStack, "render", "--stack", "s", "--out", out("r")], /Pulumi\.s\.yaml is empty: a stack needs at least offload-lab:guest with os, name and baseImage/],
  ["render", ["--project", binaryStack, "render", "--stack", "s", "--out", out("r")], /Pulumi\.s\.yaml: not a text file \(byte 0x7f at offset 0\); a stack file is YAML text/],
  ["render", ["render", "--stack", "linux-uso-of", "--out", out("r")], /there is no stacks\/Pulumi\.linux-uso-of\.yaml; did you mean linux-uso-off or linux-uso-on\?/],
  ["import-iperf3", ["import-iperf3", path.join(MANUAL, "udp-1472B.json"), "gone.json", "--out", out("i.json")], /import-iperf3: no such file: gone\.json/],
  ["import-iperf3", ["import-iperf3", "--out", out("i.json")], /missing required argument 'files'/],
  ["import-iperf3", ["import-iperf3", MANUAL, "--payload", "abc", "--out", out("i.json")], /'--payload <bytes>' argument 'abc' is invalid\. expected a whole number from 16 to 65507/],
  ["import-iperf3", ["import-iperf3", MANUAL, "--mtu", "99999", "--out", out("i.json")], /'--mtu <bytes>' argument '99999' is invalid/],
  ["report", ["report", path.join(tmp, "nothing-here"), "--out", out("rep")], /nothing-here: no such file or folder/],
  ["report", ["report", notJson, "--out", out("rep")], /not-results\.json: not JSON/],
  ["report", ["report", MANUAL, "--out", out("rep"), "--fail-if", "speed-drop:uso>5%"], /--fail-if "speed-drop:uso>5%": unknown metric "speed"/],
  ["report", ["report", MANUAL], /required option '--out <dir>'/],
  ["report", ["report", emptyFolder, "--out", out("rep")], /\nno results in .*no-results: no \*\.json file there\nGive stack outputs/],
  ["report", ["report", path.join(MANUAL, "udp-1472B.json"), "--out", out("rep")], /udp-1472B\.json: iperf3 -J output, not results: import it first, e\.g\.\noffload-lab import-iperf3 /],
  ["import-iperf3", ["import-iperf3", MANUAL, "--uso", "yes", "--out", out("i.json")], /option '--uso <on\|off>' argument 'yes' is invalid\. Allowed choices are on, off/],
  ["import-iperf3", ["import-iperf3", MANUAL, "--os", "bsd", "--out", out("i.json")], /option '--os <os>' argument 'bsd' is invalid\. Allowed choices are linux, windows/],
  ["import-iperf3", ["import-iperf3", MANUAL, "--variant", " ", "--out", out("i.json")], /--variant must not be empty/],
  ["import-iperf3", ["import-iperf3", path.join(MANUAL, "udp-8972B.json"), "--out", out("i.json")], /sent 8972 B datagrams, above 1500 − 28 .*\nPass --mtu/],
  ["sweep", ["sweep", "--stacks", "a", "--out", out("s"), "--samples", "0"], /'--samples <n>' argument '0' is invalid\. expected a whole number from 1 up/],
  ["sweep", ["sweep", "--stacks", "a", "--out", out("s"), "--seed", "x"], /'--seed <n>' argument 'x' is invalid/],
  ["sweep", ["sweep", "--stacks", "a;rm -rf /", "--out", out("s")], /--stacks: "a;rm -rf \/" is not a stack name/],
  ["sweep", ["sweep", "--out", out("s")], /required option '--stacks <list>'/],
  ["sweep", ["sweep", "--stacks", "a", "--out", out("s"), "--budget", "20"], /^--budget "20": give a duration such as 90s, 20m, 1h or 1h30m/],
  ["sweep", ["sweep", "--stacks", "a", "--out", out("s"), "--budget", "20m", "--precision", "150%"], /^--precision "150%": give the 95 % interval's half-width as a percentage or a fraction in \(0, 100 %\)/],
  ["sweep", ["sweep", "--stacks", "a", "--out", out("s"), "--budget", "20m", "--max-samples", "2"], /^--max-samples "2": give a whole number of samples per arm from 3/],
  ["sweep", ["sweep", "--stacks", "a", "--out", out("s"), "--precision", "10%"], /^--precision needs --budget/],
  ["sweep", ["sweep", "--stacks", "a", "--out", out("s"), "--budget", "20m", "--samples", "3"], /^--budget with --samples 3: with --budget the rounds decide how many samples each row gets/],
  ["sweep", ["sweep", "--stacks", "mtu1500-uso-off", "--out", out("s"), "--budget", "20m"], /^--budget: stack mtu1500-uso-off has matrix\.usoArms false; .*or use --samples N for per-variant stacks$/],
  ["(none)", ["deploy"], /unknown command 'deploy'/],
  ["(none)", ["--verison"], /unknown option '--verison'\n\(Did you mean --version\?\)/],
];

describe("every subcommand, fed bad input, exits 2 with a message and no stack trace", () => {
  it.each(BAD_INPUT)("%s %j", async (_sub, args, message) => {
    const r = await run(args);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(STACK_LINE);
    // A message, not an essay: the usage hint aside, at most two lines.
    expect(r.err.split("\n").filter((l) => l !== "(add --help for usage)" && !/^\[\d+:\d\d\] /.test(l)).length).toBeLessThanOrEqual(2);
  });

  it("writes nothing when an import argument is bad", async () => {
    const target = out("never.json");
    await run(["import-iperf3", MANUAL, "gone.json", "--out", target]);
    expect(fs.existsSync(target)).toBe(false);
  });
});

describe("the installed command, as a user runs it", () => {
  const bin = path.join(ROOT, "bin", "offload-lab.js");
  it.each([
    ["render", ["render", "--stack", "nope", "--out", out("b")]],
    ["import-iperf3", ["import-iperf3", "gone.json", "--out", out("b.json")]],
    ["report", ["report", notJson, "--out", out("b")]],
    ["sweep", ["sweep", "--stacks", "a", "--samples", "-1", "--out", out("b")]],
  ])("%s exits 2 with no stack trace on stdout or stderr", (_sub, args) => {
    const r = spawnSync("node", [bin, ...args], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim()).not.toBe("");
    expect(r.stderr + r.stdout).not.toMatch(STACK_LINE);
  });
});

describe("a binary file's refusal", () => {
  // Control bytes but newline: what a terminal would act on (clear the screen, set the title).
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
  const binaryJson = path.join(tmp, "binary.json");
  fs.writeFileSync(binaryJson, Buffer.from("\u007fELF\u0002\u0001\u001b[2J\u001b]0;pwned\u0007 binary", "latin1"));

  it("of a stack file carries none of its bytes to the terminal", () => {
    const r = spawnSync("node", [path.join(ROOT, "bin", "offload-lab.js"), "--project", binaryStack, "render", "--stack", "s", "--out", out("b")], { cwd: ROOT });
    expect(r.status).toBe(2);
    const stderr = r.stderr.toString("latin1");
    expect(stderr).toContain("not a text file (byte 0x7f at offset 0)");
    expect(stderr).not.toMatch(CONTROL);
  });

  it.each([
    ["import-iperf3", ["import-iperf3", binaryJson, "--out", out("bin-import.json")], 1],
    ["report", ["report", binaryJson, "--out", out("bin-report")], 2],
  ])("given to %s carries none of its bytes to the terminal", (_sub, args, code) => {
    const r = spawnSync("node", [path.join(ROOT, "bin", "offload-lab.js"), ...args], { cwd: ROOT });
    expect(r.status).toBe(code);
    expect(r.stdout.toString("latin1") + r.stderr.toString("latin1")).toContain("binary.json");
    expect(r.stdout.toString("latin1")).not.toMatch(CONTROL);
    expect(r.stderr.toString("latin1")).not.toMatch(CONTROL);
  });
});

describe("an unexpected fault", () => {
  // A fault inside offload-lab: here the output stream itself breaks.
  const broken: Partial<MainDeps> = {
    io: { out: () => { throw new TypeError("Cannot read properties of undefined (reading 'size')"); }, err: (l) => errLines.push(l) },
  };
  const errLines: string[] = [];

  it("prints its message and where the details are, with no trace", async () => {
    errLines.length = 0;
    const code = await main(["node", "offload-lab", "render", "--stack", "mtu9000-uso-on", "--out", out("f")], broken);
    expect(code).toBe(FAULT_EXIT);
    expect(errLines[0]).toBe("offload-lab: unexpected error: Cannot read properties of undefined (reading 'size')");
    expect(errLines[1]).toMatch(/--debug/);
    expect(errLines.join("\n")).not.toMatch(STACK_LINE);
  });

  it("prints the trace under --debug", async () => {
    errLines.length = 0;
    const code = await main(["node", "offload-lab", "--debug", "render", "--stack", "mtu9000-uso-on", "--out", out("f")], broken);
    expect(code).toBe(FAULT_EXIT);
    expect(errLines.join("\n")).toMatch(STACK_LINE);
  });
});
