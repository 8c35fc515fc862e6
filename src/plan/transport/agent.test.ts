import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { validateLab } from "../../config/validate";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { guestStepCommand } from "../guestStep";
import { agentTransport, transportFor } from ".";
import { POWERSHELL_LOADER } from "./powershellLoader";

// The agent transport against a fake virsh replaying recorded qemu-guest-agent replies
// (test/fixtures/agent/README.md says which are recorded and which crafted).

const FIXTURES = path.join(__dirname, "..", "..", "..", "test", "fixtures", "agent");
const tempDirs: string[] = [];
afterEach(() => {
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Call {
  uri: string;
  domain: string;
  request: { execute: string; arguments?: Record<string, unknown> };
}

function runAgent(scenario: string, script: string, opts: { os?: "linux" | "windows"; timeoutSeconds?: number; domain?: string } = {}) {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "ol-agent-"));
  tempDirs.push(state);
  const transport = agentTransport({
    uri: "qemu:///system",
    domain: opts.domain ?? "linux-uso-lab",
    os: opts.os ?? "linux",
    timeoutSeconds: opts.timeoutSeconds ?? 30,
  });
  const r = spawnSync("bash", ["-c", guestStepCommand(transport, script)], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${FIXTURES}:${process.env.PATH}`, FAKE_VIRSH_REPLIES: path.join(FIXTURES, scenario), FAKE_VIRSH_STATE: state },
  });
  const callsFile = path.join(state, "calls.jsonl");
  const calls: Call[] = fs.existsSync(callsFile)
    ? fs.readFileSync(callsFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Call)
    : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
}

const SCRIPT = "echo 'it is \"quoted\"' $(uname)\n";

describe("agent transport (fake virsh, recorded replies)", () => {
  it("runs the script through guest-exec and returns the guest's output and exit code", () => {
    const r = runAgent("exited-ok", SCRIPT);
    expect(r.stderr).toContain("progress on stderr");
    expect(r.stdout).toBe('hello from the guest ???~~~\n{"a":"x/y+z"}\n');
    expect(r.status).toBe(0);
    const [ping, exec, ...polls] = r.calls;
    expect(ping!.request).toEqual({ execute: "guest-ping" });
    expect(exec!.request.execute).toBe("guest-exec");
    expect(exec!.request.arguments).toMatchObject({ path: "/bin/sh", arg: ["-s"], "capture-output": true });
    expect(Buffer.from(exec!.request.arguments!["input-data"] as string, "base64").toString("utf8")).toBe(SCRIPT);
    // It polls the pid the agent returned until the recorded reply says exited.
    expect(polls.map((c) => c.request)).toEqual(
      Array(4).fill({ execute: "guest-exec-status", arguments: { pid: 32163 } }),
    );
    expect(new Set(r.calls.map((c) => `${c.uri} ${c.domain}`))).toEqual(new Set(["qemu:///system linux-uso-lab"]));
  });

  it("decodes out-data that a json-c libvirt wrote with escaped slashes", () => {
    const r = runAgent("json-c-slashes", SCRIPT);
    expect(r.stdout).toBe('hello from the guest ???~~~\n{"a":"x/y+z"}\n');
    expect(r.status).toBe(0);
  });

  it("returns the guest's non-zero exit code with its stdout and stderr", () => {
    const r = runAgent("exited-nonzero", SCRIPT);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("partial output\n");
    expect(r.stderr).toContain("ethtool: bad command line argument(s)");
  });

  it("fails when a signal ended the guest script", () => {
    const r = runAgent("killed", SCRIPT);
    expect(r.status).toBe(125);
    expect(r.stdout).toBe("started\n");
    expect(r.stderr).toContain("killed by signal 9");
  });

  it("fails when the agent truncated the output", () => {
    const r = runAgent("truncated", SCRIPT);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain("truncated the output");
  });

  it("waits for an agent that answers after a while", () => {
    const r = runAgent("late-ready", SCRIPT);
    expect(r.calls.filter((c) => c.request.execute === "guest-ping")).toHaveLength(3);
    expect(r.status).toBe(0);
  });

  it("gives up on an agent that never answers, with virsh's reason", () => {
    const r = runAgent("never-ready", SCRIPT, { timeoutSeconds: 2 });
    expect(r.status).toBe(124);
    expect(r.stderr).toContain("did not answer within 2 s");
    expect(r.stderr).toContain("QEMU guest agent is not connected");
    expect(r.calls.some((c) => c.request.execute === "guest-exec")).toBe(false);
  });

  it("gives up on a script that does not end within the timeout", () => {
    const r = runAgent("never-exits", SCRIPT, { timeoutSeconds: 2 });
    expect(r.status).toBe(124);
    expect(r.stderr).toContain("did not end within 2 s");
  });

  it("reports a guest-exec the agent refused", () => {
    const r = runAgent("exec-error", SCRIPT);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain("No such file or directory");
  });

  it("starts PowerShell on the stdin loader for a Windows guest and sends the script as UTF-8", () => {
    const ps1 = "Write-Output 'Größe ‘quoted’'\nexit 0\n";
    const r = runAgent("exited-ok", ps1, { os: "windows" });
    const args = r.calls[1]!.request.arguments!;
    expect(args.path).toBe("powershell.exe");
    const argv = args.arg as string[];
    expect(argv.slice(0, -1)).toEqual(["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand"]);
    expect(Buffer.from(argv.at(-1)!, "base64").toString("utf16le")).toBe(POWERSHELL_LOADER);
    expect(Buffer.from(args["input-data"] as string, "base64").toString("utf8")).toBe(ps1);
  });

  it("passes a hostile domain name to virsh as one exact argument", () => {
    const domain = "lab $(touch /tmp/ol-pwned) `id` ; x";
    const r = runAgent("exited-ok", SCRIPT, { domain });
    expect(r.status).toBe(0);
    expect(r.calls.every((c) => c.domain === domain)).toBe(true);
    expect(fs.existsSync("/tmp/ol-pwned")).toBe(false);
  });

  it("is the transport for guest.access agent, with the stack's URI, domain and timeout", () => {
    const cfg = validateLab("t", {
      libvirt: { uri: "qemu+ssh://root@kvm.example/system" },
      guest: { os: "linux", name: "g1", baseImage: "/i.qcow2", agentTimeoutSeconds: 42 },
    });
    const t = transportFor(cfg);
    const values = spawnSync("bash", ["-c", `${t.functionDefinition}\nprintf '%s|' "$OL_AGENT_URI" "$OL_AGENT_DOMAIN" "$OL_AGENT_TIMEOUT"`], { encoding: "utf8" });
    expect(values.stdout).toBe("qemu+ssh://root@kvm.example/system|g1|42|");
  });
  it("is a typed value: what it needs on the host, and no secret", () => {
    const t = agentTransport({ uri: "qemu:///system", domain: "linux-uso-lab", os: "linux", timeoutSeconds: 30 });
    expect(t.kind).toBe("agent");
    expect(t.secretEnv).toEqual({});
    expect(t.hostTools).toEqual(["virsh", "jq", "base64"]);
    expect(shellcheck(guestStepCommand(t, SCRIPT), "bash")).toEqual([]);
  });
});

// Issue 12 defects in the transport (test/plan/windows-defects.test.ts before the restructure).
describe("5: the host stops the guest's sender", () => {
  it("guest_stop ends the recorded guest pid with a second guest-exec of taskkill /T", () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "ol-stop-"));
    tempDirs.push(state);
    const t = agentTransport({ uri: "qemu:///system", domain: "win-uso-lab", os: "windows", timeoutSeconds: 1 });
    const pidFile = path.join(state, "cell.pid");
    const r = spawnSync("bash", ["-c", `${t.functionDefinition}\necho x | guest_exec; echo "rc=$?"; guest_stop "$OL_GUEST_PID_FILE"`], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${FIXTURES}:${process.env.PATH}`, FAKE_VIRSH_REPLIES: path.join(FIXTURES, "never-exits"), FAKE_VIRSH_STATE: state, OL_GUEST_PID_FILE: pidFile },
    });
    expect(r.stdout).toContain("rc=124");
    expect(fs.readFileSync(pidFile, "utf8")).toBe("32163\n");
    const calls = fs.readFileSync(path.join(state, "calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Call);
    expect(calls.at(-1)!.request).toEqual({
      execute: "guest-exec",
      arguments: { path: "taskkill.exe", arg: ["/F", "/T", "/PID", "32163"], "capture-output": true },
    });
    expect(r.stderr).toContain("guest_stop: asked the guest to end pid 32163 in win-uso-lab");
  });

  it("on Linux with kill -TERM", () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "ol-stop-"));
    tempDirs.push(state);
    const t = agentTransport({ uri: "qemu:///system", domain: "linux-uso-lab", os: "linux", timeoutSeconds: 1 });
    const pidFile = path.join(state, "cell.pid");
    fs.writeFileSync(pidFile, "4242\n");
    const r = spawnSync("bash", ["-c", `${t.functionDefinition}\nguest_stop ${pidFile}`], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${FIXTURES}:${process.env.PATH}`, FAKE_VIRSH_REPLIES: path.join(FIXTURES, "exited-ok"), FAKE_VIRSH_STATE: state },
    });
    expect(r.status).toBe(0);
    const calls = fs.readFileSync(path.join(state, "calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Call);
    expect(calls.map((c) => c.request)).toEqual([
      { execute: "guest-exec", arguments: { path: "/bin/kill", arg: ["-TERM", "4242"], "capture-output": true } },
    ]);
  });
});

describe("8: a hostile domain name stays one value", () => {
  it("keeps a control character in the domain name out of the transport's code and comments", () => {
    const marker = path.join(os.tmpdir(), `ol-comment-${process.pid}`);
    const domain = `lab\ntouch ${marker}\r`;
    const t = agentTransport({ uri: "qemu:///system", domain, os: "windows", timeoutSeconds: 1 });
    // No value is written into a comment any more: the first line names the file.
    expect(t.functionDefinition.split("\n")[0]).toBe("# guest_exec and guest_stop: src/plan/transport/agent.sh, after the transport's values");
    expect(boundValue(t.functionDefinition, "OL_AGENT_DOMAIN")).toBe(domain);
    const r = spawnSync("bash", ["-c", t.functionDefinition], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
    expect(shellcheck(guestStepCommand(t, "true"), "bash")).toEqual([]);
  });
});

// Issue 18 item 7: a status poll has its own timeout and is asked again, a bounded number of times.
describe("guest-exec-status polls", () => {
  it("give each poll virsh --timeout 10 and ask again after a failed poll", () => {
    const r = runAgent("status-flaky", SCRIPT);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('hello from the guest ???~~~\n{"a":"x/y+z"}\n');
    expect(r.stderr).toContain("guest_exec: poll 1 of 3 in linux-uso-lab failed, asking again: error: Guest agent is not responding");
    const polls = r.calls.filter((c) => c.request.execute === "guest-exec-status");
    expect(polls).toHaveLength(2);
    expect(polls.every((c) => (c as Call & { timeout: number | null }).timeout === 10)).toBe(true);
    // The ping and the exec keep virsh's own timeout: the agent is waited for by guest-ping.
    expect(r.calls.filter((c) => c.request.execute !== "guest-exec-status").every((c) => (c as Call & { timeout: number | null }).timeout === null)).toBe(true);
  });

  it("fail the step after three failed polls, saying so", () => {
    const r = runAgent("status-dead", SCRIPT);
    expect(r.status).toBe(125);
    expect(r.calls.filter((c) => c.request.execute === "guest-exec-status")).toHaveLength(3);
    expect(r.stderr).toContain("guest-exec-status 32163 in linux-uso-lab failed 3 times (10 s each): error: Guest agent is not responding");
  });
});
