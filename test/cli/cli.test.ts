import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main";
import { listStacks } from "../../src/config/stackFile";
import { expectGolden } from "../support/golden";

const ROOT = path.resolve(__dirname, "..", "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-cli-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  const errors: string[] = [];
  const err = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => { errors.push(a.join(" ")); });
  const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    return { code: await main(["node", "offload-lab", ...args]), err: errors.join("\n") };
  } finally {
    err.mockRestore();
    log.mockRestore();
  }
}

/** A project directory holding one stack file, for stacks the repository must not carry. */
function projectWith(stack: string, yaml: string): string {
  const dir = fs.mkdtempSync(path.join(tmp, "project-"));
  fs.mkdirSync(path.join(dir, "stacks"));
  fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), yaml);
  return dir;
}

describe.each(listStacks(ROOT))("render %s", (stack) => {
  it("writes every step's scripts and documents, and a manifest of the order", async () => {
    const out = path.join(tmp, stack);
    expect((await cli("--project", ROOT, "render", "--stack", stack, "--out", out)).code).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as { steps: { create: string; delete?: string; hostCommand?: string; documents: string[] }[] };
    for (const s of manifest.steps) {
      for (const f of [s.create, s.delete, s.hostCommand, ...s.documents].filter((x): x is string => x !== undefined)) {
        expect(fs.existsSync(path.join(out, f)), f).toBe(true);
        if (f.endsWith(".sh")) execFileSync("bash", ["-n", path.join(out, f)]);
      }
    }
    expectGolden(`render/${stack}.manifest.json`, fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
  });
});

describe("render shows what each stack asks of NetKVM", () => {
  const guestScript = (stack: string) => {
    const out = path.join(tmp, stack);
    return fs.readFileSync(path.join(out, fs.readdirSync(out).find((f) => /-guest-offloads\.ps1$/.test(f))!), "utf8");
  };
  it.each([
    ["mtu9000-uso-on", "Keyword = '*UsoIPv4'; Value = '1'", "JumboPacket = '9014'"],
    ["mtu9000-uso-off", "Keyword = '*UsoIPv4'; Value = '0'", "JumboPacket = '9014'"],
    ["mtu1500-uso-on", "Keyword = '*UsoIPv4'; Value = '1'", "JumboPacket = '1514'"],
  ])("%s", async (stack, uso, jumbo) => {
    await cli("--project", ROOT, "render", "--stack", stack, "--out", path.join(tmp, stack));
    expect(guestScript(stack)).toContain(uso);
    expect(guestScript(stack)).toContain(jumbo);
  });
});

describe("render refuses bad input", () => {
  it("exits 2 naming the key of an out-of-range MTU", async () => {
    const project = projectWith("bad", fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.mtu9000-uso-on.yaml"), "utf8").replace("mtu: 9000", "mtu: 70000"));
    const r = await cli("--project", project, "render", "--stack", "bad", "--out", path.join(tmp, "bad"));
    expect(r.code).toBe(2);
    expect(r.err).toContain("offload-lab:network.mtu: must be a whole number from 68 to 65535 (given: 70000)");
    expect(fs.existsSync(path.join(tmp, "bad"))).toBe(false);
  });

  it("exits 2 for a stack that does not exist", async () => {
    expect((await cli("--project", ROOT, "render", "--stack", "nope", "--out", path.join(tmp, "nope"))).code).toBe(2);
  });
});

describe("hostile strings reach the rendered files as one inert value", () => {
  const hostile = "/srv/img/a'b $(touch /tmp/ol-pwned) `id` \"c\" <x>&y.qcow2";
  it("are quoted in bash", async () => {
    const yaml = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.linux-uso-on.yaml"), "utf8")
            // A JSON string is a YAML double-quoted scalar.
      .replace("/var/lib/offload-lab/images/debian-guest.qcow2", JSON.stringify(hostile));
    const project = projectWith("hostile", yaml);
    const out = path.join(tmp, "hostile");
    expect((await cli("--project", project, "render", "--stack", "hostile", "--out", out)).code).toBe(0);
    const disk = fs.readFileSync(path.join(out, fs.readdirSync(out).find((f) => /-guest-disk\.sh$/.test(f))!), "utf8");
    // Bash reads back exactly the configured path from the script's assignment, running nothing.
    const assignment = disk.split("\n").find((l) => l.startsWith("BASE="))!;
    expect(execFileSync("bash", ["-c", `${assignment}\nprintf %s "$BASE"`], { encoding: "utf8" })).toBe(hostile);
    for (const f of fs.readdirSync(out).filter((x) => x.endsWith(".sh"))) execFileSync("bash", ["-n", path.join(out, f)]);
    expect(fs.existsSync("/tmp/ol-pwned")).toBe(false);
  });
});

describe("the installed command", () => {
  it("runs from package.json's bin with no build step", () => {
    const r = spawnSync("node", [path.join(ROOT, "bin", "offload-lab.js"), "render", "--stack", "linux-uso-on", "--out", path.join(tmp, "bin")], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(tmp, "bin", "manifest.json"))).toBe(true);
  });
});

describe("import-iperf3 and report", () => {
  const fixture = path.join(ROOT, "test", "fixtures", "iperf3", "udp-1472B-mtu1500.json");
  it("turns a real iperf3 JSON file into a cell result with its receiver numbers", async () => {
    const out = path.join(tmp, "imported.json");
    expect((await cli("import-iperf3", fixture, "--mtu", "1500", "--variant", "mtu1500-manual", "--out", out)).code).toBe(0);
    const [cell] = (JSON.parse(fs.readFileSync(out, "utf8")) as { cells: { throughputBps: number; packets: number; lostPackets: number; jitterMs: number; payloadBytes: number }[] }).cells;
    const received = (JSON.parse(fs.readFileSync(fixture, "utf8")) as { end: { sum_received: { bits_per_second: number; packets: number; lost_packets: number; jitter_ms: number } } }).end.sum_received;
    expect(cell).toMatchObject({ throughputBps: received.bits_per_second, packets: received.packets, lostPackets: received.lost_packets, jitterMs: received.jitter_ms, payloadBytes: 1472 });
  });

  it("report writes report.md, results.csv and report.html from imported results", async () => {
    const out = path.join(tmp, "report");
    expect((await cli("report", path.join(tmp, "imported.json"), "--out", out)).code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["report.html", "report.md", "results.csv"]);
  });
});

describe("engine commands refuse before touching the engine, with render's lines", () => {
  /** A copy of the project (its stacks and Pulumi.yaml) with no passphrase anywhere. */
  function copyProject(edit?: (stack: string, text: string) => string): string {
    const dir = fs.mkdtempSync(path.join(tmp, "engine-project-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.mkdirSync(path.join(dir, "stacks"));
    for (const stack of listStacks(ROOT)) {
      const text = fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8");
      fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), edit ? edit(stack, text) : text);
    }
    return dir;
  }
  const withoutPassphrase = async (...args: string[]) => {
    const saved = { p: process.env.PULUMI_CONFIG_PASSPHRASE, f: process.env.PULUMI_CONFIG_PASSPHRASE_FILE, b: process.env.PULUMI_BACKEND_URL };
    delete process.env.PULUMI_CONFIG_PASSPHRASE;
    delete process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
    delete process.env.PULUMI_BACKEND_URL;
    try {
      return await cli(...args);
    } finally {
      for (const [k, v] of [["PULUMI_CONFIG_PASSPHRASE", saved.p], ["PULUMI_CONFIG_PASSPHRASE_FILE", saved.f], ["PULUMI_BACKEND_URL", saved.b]] as const) {
        if (v !== undefined) process.env[k] = v;
      }
    }
  };
  const STACK_LINE = /^\s+at .+(\(|:\d+)/m;
  const bad = copyProject((stack, text) => (stack === "linux-uso-on" ? text.replace("mtu: 1500", "mtu: 70000").replace("vcpus: 2", "vcpus: many") : text));
  const clean = copyProject();

  for (const command of ["preview", "up", "destroy"]) {
    it(`${command} exits 2 without a passphrase, naming the backend, the variables and the file`, async () => {
      const r = await withoutPassphrase("--project", clean, command, "--stack", "linux-uso-on");
      expect(r.code).toBe(2);
      expect(r.err).toBe(
        `no passphrase for the stacks' secrets in backend file://${clean}/.offload-lab/state: set PULUMI_CONFIG_PASSPHRASE or ` +
          `PULUMI_CONFIG_PASSPHRASE_FILE, or put one in ${clean}/.offload-lab/passphrase (bash scripts/main.sh makes one)`,
      );
    });

    it(`${command} of a stack with bad settings exits 2 with the lines render prints, before asking for a passphrase`, async () => {
      const rendered = await cli("--project", bad, "render", "--stack", "linux-uso-on", "--out", path.join(tmp, "never"));
      expect(rendered.code).toBe(2);
      expect(rendered.err).toMatch(/offload-lab:network\.mtu: must be a whole number from 68 to 65535 \(given: 70000\)/);
      const r = await withoutPassphrase("--project", bad, command, "--stack", "linux-uso-on");
      expect(r.code).toBe(2);
      expect(r.err).toBe(rendered.err);
      expect(r.err).not.toMatch(STACK_LINE);
    });

    it(`${command} of a stack that does not exist names the known stacks, as render does`, async () => {
      const rendered = await cli("--project", clean, "render", "--stack", "nope", "--out", path.join(tmp, "never"));
      const r = await withoutPassphrase("--project", clean, command, "--stack", "nope");
      expect(r.code).toBe(2);
      expect(r.err).toBe(rendered.err);
      expect(r.err).toMatch(/Stacks in .*: linux-uso-off, linux-uso-on, .*sandbox-uso-on/);
    });
  }

  it("up of a stack whose key is the sandbox's placeholder says how to give it one", async () => {
    const r = await withoutPassphrase("--project", clean, "up", "--stack", "sandbox-uso-on");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Pulumi\.sandbox-uso-on\.yaml: offload-lab:hostSshPrivateKey holds the placeholder "set-by-the-sandbox", not a secret: run the stack on a sandbox or pool host/);
  });

  it("sweep checks every stack's settings first, with render's lines", async () => {
    const rendered = await cli("--project", bad, "render", "--stack", "linux-uso-on", "--out", path.join(tmp, "never"));
    const out = path.join(tmp, "sweep-bad");
    const r = await withoutPassphrase("--project", bad, "sweep", "--stacks", "linux-uso-off,linux-uso-on", "--out", out);
    expect(r.code).toBe(2);
    expect(r.err).toBe(rendered.err);
    expect(fs.existsSync(out)).toBe(false);
    const missing = await withoutPassphrase("--project", clean, "sweep", "--stacks", "linux-uso-off,nope", "--out", out);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^--stack nope: there is no .*Pulumi\.nope\.yaml\nStacks in /);
    const nopass = await withoutPassphrase("--project", clean, "sweep", "--stacks", "linux-uso-off", "--out", out);
    expect(nopass.code).toBe(2);
    expect(nopass.err).toMatch(/^no passphrase for the stacks' secrets in backend file:\/\//);
  });

  it("sweep exits 2 for --sandbox with --keep, and for a bad --shard", async () => {
    const r = await withoutPassphrase("--project", clean, "sweep", "--sandbox", "--keep", "--stacks", "sandbox-uso-off", "--out", path.join(tmp, "sweep"));
    expect(r.code).toBe(2);
    expect(r.err).toContain("--keep with --sandbox");
    const shard = await withoutPassphrase("--project", clean, "sweep", "--shard", "3/2", "--stacks", "linux-uso-off", "--out", path.join(tmp, "sweep"));
    expect(shard.code).toBe(2);
    expect(shard.err).toBe("--shard 3/2: i must be from 1 to n (2)");
  });
});
