import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectGolden } from "../../../test/support/golden";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import type { LabConfig } from "../../config/model";
import { SecretValue } from "../../config/secret";
import { loadStack } from "../../config/stackFile";
import { validateLab } from "../../config/validate";
import { ps } from "../quote";
import type { Step } from "../step";
import { GUEST_SSH_KEY_ENV, transportFor } from "../transport";
import type { Transport } from "../transport/transport";
import { planCells } from "./cells";
import { CELL_GRACE_SECONDS, guestCellScript, iperf3ClientArgs } from "./guestCell";
import { benchmarkStep } from "./step";

const stand = (name: string) => ({ name }) as Step;
const after = { iperf3Server: stand("iperf3-server"), guestOffloads: stand("guest-offloads"), hostOffloads: stand("host-offloads"), guestNetwork: stand("guest-network") };
/** A transport for tests whose bash is `functionDefinition`. */
const testTransport = (description: string, functionDefinition: string): Transport => ({ kind: "netns", description, functionDefinition, secretEnv: {}, hostTools: [] });
const goldenTransport = testTransport("golden stand-in", "guest_exec() { sh -s; }");
const HOSTILE = `it's "q" \`id\` $(touch /tmp/ol-pwned) $HOME ; rm -rf x\nline2 <a>&!`;

/**
 * What bash makes of the values a generated host script binds: its preamble (everything before
 * host-lib.sh's first command) run once, then each name's elements printed, so a test sees
 * the values a host would bind, not their quoting. A scalar is a list of one.
 */
function boundValues(script: string, names: readonly string[]): Record<string, string[]> {
  const lines = script.split("\n");
  const end = lines.indexOf("export LC_ALL=C");
  if (end < 0) throw new Error("no host-lib.sh in the script");
  const print = names.map((n) => `printf '%s\\0' "\${#${n}[@]}" "\${${n}[@]}"`).join("\n");
  // set +u: bash 5.2 calls a scalar unbound when asked for its element count.
  const r = spawnSync("bash", ["-c", `${lines.slice(0, end).join("\n")}\nset +u\n${print}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`the preamble did not run: ${r.stderr}`);
  const words = r.stdout.split("\0");
  const out: Record<string, string[]> = {};
  let at = 0;
  for (const n of names) {
    const count = Number(words[at++]);
    out[n] = words.slice(at, at + count);
    at += count;
  }
  return out;
}

describe("the benchmark step of every stack", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: the loop and one cell per sender match their golden files; shellcheck finds nothing`, () => {
      const step = benchmarkStep(cfg, goldenTransport, after);
      const cells = planCells(cfg);
      const ext = cfg.guest.os === "windows" ? "ps1" : "sh";
      // One cell script per sender: the senders differ in the client's arguments.
      for (const sender of cfg.matrix.senders) {
        const first = cells.find((c) => c.sender === sender)!;
        expectGolden(`benchmark/${cfg.stack}/cell.${first.id}.${ext}`, guestCellScript(cfg, first));
      }
      expectGolden(`benchmark/${cfg.stack}/benchmark.create.sh`, step.create);
      expect(shellcheck(step.create, "bash")).toEqual([]);
      if (cfg.guest.os === "linux") for (const c of cells) expect(shellcheck(guestCellScript(cfg, c), "sh"), c.id).toEqual([]);
      expect(step.dependsOn).toEqual([after.iperf3Server, after.guestOffloads, after.hostOffloads, after.guestNetwork]);
      expect(step.triggers).toContain(cfg.benchmark.runId);
      expect(step.component).toBe("Benchmark");
      expect(step.runsOn).toBe("host");
      expect(step.delete).toBeUndefined();
      expect(step.effect.changes).toMatch(new RegExp(`^runs ${cells.length} iperf3 cells from the guest to `));
    });

    it(`${cfg.stack}: binds its transport's bash and every cell as exactly themselves, in plan order`, () => {
      const transport = transportFor(cfg);
      const step = benchmarkStep(cfg, transport, after);
      const cells = planCells(cfg);
      const bound = boundValues(step.create, ["TRANSPORT", "USO_RECEIVER_PY", "CELL_IDS", "CELL_SECONDS", "CELL_PAYLOADS", "CELL_SENDERS", "CELL_SCRIPTS"]);
      expect(bound).toEqual({
        TRANSPORT: [transport.functionDefinition],
        USO_RECEIVER_PY: [fs.readFileSync(path.join(__dirname, "uso-receiver.py"), "utf8")],
        CELL_IDS: cells.map((c) => c.id),
        CELL_SECONDS: cells.map((c) => String(c.durationSeconds)),
        CELL_PAYLOADS: cells.map((c) => String(c.payloadBytes)),
        CELL_SENDERS: cells.map((c) => c.sender),
        CELL_SCRIPTS: cells.map((c) => guestCellScript(cfg, c)),
      });
      expect(shellcheck(step.create, "bash")).toEqual([]);
    });
  }

  it("the uso receiver is Python that compiles", () => {
    const r = spawnSync("python3", ["-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')", path.join(__dirname, "uso-receiver.py")], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("triggers", () => {
  const cfg = loadStack(PROJECT, "mtu9000-uso-on");
  it("re-run the benchmark for a new runId or matrix", () => {
    const base = benchmarkStep(cfg, goldenTransport, after).triggers;
    const rerun = benchmarkStep({ ...cfg, benchmark: { runId: "2" } }, goldenTransport, after).triggers;
    const matrix = benchmarkStep({ ...cfg, matrix: { ...cfg.matrix, repetitions: 5 } }, goldenTransport, after).triggers;
    expect(rerun).not.toEqual(base);
    expect(matrix).not.toEqual(base);
  });
});

describe("guest access over SSH", () => {
  const sshCfg = validateLab("t", {
    network: { mode: "dedicated", cidr: "10.77.0.0/24", guestAddress: "10.77.0.10" },
    guest: { os: "linux", name: "g1", baseImage: "/i.qcow2", access: "ssh", ssh: { user: "lab", port: 2200 }, tapName: "ol-none0", iperf3Path: "true" },
    guestSshPrivateKey: new SecretValue("offload-lab:guestSshPrivateKey"),
    matrix: { payloads: [1000], senders: ["plain"], repetitions: 2, durationSeconds: 1 },
  });
  // Until the typed transports land (another branch), transportFor's ssh value has only its
  // description and bash; the Transport contract's ssh values (steps.md) fill the rest, and
  // the transport's own win as soon as it has them.
  const given: Partial<Transport> = transportFor(sshCfg);
  const transport = { kind: "ssh", secretEnv: { [GUEST_SSH_KEY_ENV]: "guestSshPrivateKey" }, hostTools: ["ssh"], ...given } as Transport;
  const step = benchmarkStep(sshCfg, transport, after);
  const FAKE_SSH = path.join(PROJECT, "test", "fixtures", "agent", "ssh");

  /** The loop as the engine runs it: with the variables the step's secretEnv names, and no others. */
  function runLoop(secrets: Record<string, string>) {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "ol-bench-ssh-"));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${FAKE_SSH}:${process.env.PATH}`, FAKE_SSH_STATE: state, ...secrets };
      if (!(GUEST_SSH_KEY_ENV in secrets)) delete env[GUEST_SSH_KEY_ENV];
      const stdout = execFileSync("bash", ["-s"], { input: step.create, encoding: "utf8", env, stdio: ["pipe", "pipe", "pipe"] });
      const calls = fs.existsSync(path.join(state, "calls.log")) ? fs.readFileSync(path.join(state, "calls.log"), "utf8") : "";
      return { lines: stdout.trim().split("\n").map((l) => JSON.parse(l) as { exitCode: number }), calls };
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  }

  it("a plan with guest.access ssh gives the benchmark step the guest key's variable", () => {
    expect(step.secretEnv).toEqual({ [GUEST_SSH_KEY_ENV]: "guestSshPrivateKey" });
  });

  it("so every cell reaches the guest with the key, where without it every cell ends with 126", () => {
    const secrets = Object.fromEntries(Object.keys(step.secretEnv ?? {}).map((v) => [v, "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----"]));
    const withKey = runLoop(secrets);
    expect(withKey.lines.map((l) => l.exitCode)).toEqual([0, 0]);
    expect(withKey.calls.match(/^REMOTE \/bin\/sh -s$/gm)).toHaveLength(2);
    expect(withKey.calls).toContain("KEY -----BEGIN OPENSSH PRIVATE KEY-----");
    expect(runLoop({}).lines.map((l) => l.exitCode)).toEqual([126, 126]);
  });
});

describe("the loop's own defects", () => {
  const linux = loadStack(PROJECT, "linux-uso-on");

  it("its EXIT trap reads only variables set before the trap is installed (issue 18 item 7)", () => {
    const create = benchmarkStep(linux, goldenTransport, after).create;
    const lines = create.split("\n");
    const trap = lines.indexOf("trap cleanup EXIT");
    expect(trap).toBeGreaterThan(0);
    // The loop stopped right after installing the trap: under set -u the trap must still run clean.
    const upToTrap = [...lines.slice(0, trap + 1), 'echo "$WORK"', "exit 5"].join("\n");
    const r = spawnSync("bash", ["-c", upToTrap], { encoding: "utf8" });
    expect(r.stderr).not.toMatch(/unbound variable/);
    expect(r.status).toBe(5);
    expect(fs.existsSync(r.stdout.trim())).toBe(false);
  });
});

describe("hostile values", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-bench-"));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const linux = loadStack(PROJECT, "linux-uso-on");

  it("the Linux cell script hands iperf3 every argument exactly as configured", () => {
    // A `timeout` stand-in on PATH prints the argv it was given, one argument per NUL.
    const bin = path.join(tmp, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "timeout"), "#!/bin/sh\nprintf '%s\\0' \"$@\"\n", { mode: 0o755 });
    const cfg: LabConfig = { ...linux, guest: { ...linux.guest, iperf3Path: HOSTILE } };
    const cell = planCells(cfg)[0]!;
    const script = guestCellScript(cfg, cell);
    expect(shellcheck(script, "sh")).toEqual([]);
    const out = execFileSync("sh", ["-s"], { input: script, encoding: "utf8", cwd: tmp, env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(out.split("\0").slice(0, -1)).toEqual(["-k", "5", String(cell.durationSeconds + CELL_GRACE_SECONDS), HOSTILE, ...iperf3ClientArgs(cfg, cell)]);
    expect(fs.existsSync("/tmp/ol-pwned")).toBe(false);
  });

  it("the Windows cell script carries the iperf3 path as one PowerShell literal", () => {
    const win = loadStack(PROJECT, "mtu9000-uso-on");
    const path1 = `C:\\it's ‘x’\\iperf3.exe`;
    const script = guestCellScript({ ...win, guest: { ...win.guest, iperf3Path: path1 } }, planCells(win)[0]!);
    expect(script).toContain(`  Iperf3Path = ${ps(path1)}\n`);
    expect(ps(path1)).toBe(`'C:\\it''s ‘‘x’’\\iperf3.exe'`);
  });

  it("every value of the loop binds as exactly itself and the script stays shellcheck-clean", () => {
    for (const base of [linux, loadStack(PROJECT, "mtu9000-uso-on")]) {
      const cfg: LabConfig = {
        ...base,
        network: { ...base.network, hostAddress: HOSTILE },
        guest: { ...base.guest, tapName: HOSTILE, iperf3Path: HOSTILE, adapterName: HOSTILE },
      };
      const transport = testTransport(HOSTILE, `guest_exec() { sh -s; } # ${HOSTILE}`);
      const create = benchmarkStep(cfg, transport, after).create;
      expect(shellcheck(create, "bash"), base.stack).toEqual([]);
      for (const name of ["TRANSPORT", "ADDR", "TAP"]) expect(boundValue(create, name), name).toBe(name === "TRANSPORT" ? transport.functionDefinition : HOSTILE);
      expect(boundValues(create, ["CELL_SCRIPTS"]).CELL_SCRIPTS).toEqual(planCells(cfg).map((c) => guestCellScript(cfg, c)));
    }
  });

  it("stops the guest's sender through the transport when the host's deadline ends a cell", () => {
    const stops = path.join(tmp, "stops.txt");
    const transport = testTransport(
      "deadline stand-in",
      `guest_exec() { cat >/dev/null; echo 4242 >"$OL_GUEST_PID_FILE"; return 124; }
guest_stop() { printf '%s %s\\n' "$1" "$(cat "$1")" >>${JSON.stringify(stops)}; }`,
    );
    const cfg: LabConfig = { ...linux, guest: { ...linux.guest, tapName: "ol-none0" }, matrix: { ...linux.matrix, payloads: [1000], senders: ["plain"], repetitions: 2 } };
    const result = execFileSync("bash", ["-s"], { input: benchmarkStep(cfg, transport, after).create, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    expect(result.trim().split("\n").map((l) => JSON.parse(l).exitCode)).toEqual([124, 124]);
    const lines = fs.readFileSync(stops, "utf8").trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const [i, line] of lines.entries()) expect(line).toMatch(new RegExp(`/${planCells(cfg)[i]!.id}\\.pid 4242$`));
  });

  it("with in-lab arms switches before each cell, records the read-back, and a failed switch fails only its cell", () => {
    // A guest whose USO cannot be switched on: the on switch fails with its read-back message;
    // the off switch and every cell that runs succeed.
    const transport = testTransport(
      "arms stand-in",
      `guest_exec() {
  local s; s=$(cat)
  case $s in
    *$'\n'ARM=on$'\n'*) echo '{"interface":"eth0","requested":"on","actual":"off [fixed]","setErrors":""}'; echo "USO switch did not take: guest eth0: tx-udp-segmentation requested on, actual off [fixed]" >&2; return 1 ;;
    *$'\n'ARM=off$'\n'*) echo '{"interface":"eth0","requested":"off","actual":"off","setErrors":""}' ;;
    *) echo '{}' ;;
  esac
}`,
    );
    const cfg: LabConfig = { ...linux, variant: "mtu1500-uso-arms", guest: { ...linux.guest, tapName: "ol-none0" }, matrix: { ...linux.matrix, payloads: [1000], senders: ["plain"], repetitions: 2, usoArms: true } };
    const step = benchmarkStep(cfg, transport, after);
    const result = execFileSync("bash", ["-s"], { input: step.create, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    const lines = result.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.switch.arm, l.switch.exitCode, l.exitCode])).toEqual([["off", 0, 0], ["on", 1, 1], ["off", 0, 0], ["on", 1, 1]]);
    // The counters are read around every cell that ran (the tap is absent here: null), never around a failed switch.
    expect(lines.map((l) => l.counters === undefined)).toEqual([false, true, false, true]);
    for (const l of lines) expect(l.wallSeconds).toBeGreaterThanOrEqual(0);
    const cells = step.parse(result).cells;
    expect(cells.map((c) => [c.arm, c.pair, c.status])).toEqual([["off", 1, "failed"], ["on", 1, "failed"], ["off", 2, "failed"], ["on", 2, "failed"]]);
    expect(cells[1]!.error).toMatch(/^the switch to USO on exited 1: USO switch did not take: .*requested on, actual off \[fixed\]; read back: \{.*"actual":"off \[fixed\]"/);
    // The off cells ran: they fail on their own terms (no iperf3 output), not the switch's.
    expect(cells[0]!.error).not.toMatch(/switch/);
    expect(JSON.parse(cells[0]!.armReadBack!)).toMatchObject({ requested: "off", actual: "off" });
  });

  it("the benchmark loop survives a hostile transport and tap name, and reports the guest's bytes exactly", () => {
    const guestSays = `${HOSTILE}\n\u00e9\u4e2d`;
    const transport = testTransport(
      `evil\ntransport $(touch /tmp/ol-pwned)`,
      `guest_exec() { cat >/dev/null; base64 -d <<<'${Buffer.from(guestSays).toString("base64")}'; echo "it's stderr" >&2; return 3; }`,
    );
    const cfg: LabConfig = {
      ...linux,
      guest: { ...linux.guest, tapName: `t'$(touch /tmp/ol-pwned)` },
      iperf3: { ...linux.iperf3, port: 5399 },
      matrix: { ...linux.matrix, payloads: [1000], senders: ["plain"], repetitions: 2 },
    };
    const step = benchmarkStep(cfg, transport, after);
    const result = execFileSync("bash", ["-s"], { input: step.create, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    const lines = result.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(Buffer.from(lines[0].stdout, "base64").toString("utf8")).toBe(guestSays);
    expect(Buffer.from(lines[0].stderr, "base64").toString("utf8")).toBe("it's stderr\n");
    expect(lines[0].exitCode).toBe(3);
    expect(lines[0].capture.note).toMatch(/^no interface t.*on the host$/);
    const cells = step.parse(result).cells;
    expect(cells.map((c) => c.status)).toEqual(["failed", "failed"]);
    expect(cells[0]!.error).toMatch(/guest exit code 3: it's stderr/);
    expect(fs.existsSync("/tmp/ol-pwned")).toBe(false);
  });
});
