import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { parse } from "shell-quote";
import { chooseHosts, hostSettings, hostStackName, parsePool, PoolError, readPool } from "../../src/hosts/pool";
import { FakeWorkspace } from "../support/fakeSweepWorkspace";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-pool-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const GOOD = `
hosts:
  - name: kvm-a
    address: 192.0.2.10
    key: { env: OL_TEST_KEY_A }
  - name: kvm_b
    address: kvm-b.lab.example
    user: qe
    port: 2222
    jump: { address: bastion.example, user: hop, port: 22 }
    key: { file: ${tmp}/kvm-b.key }
`;

function problems(text: string): string {
  try {
    parsePool(text, "pool.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(PoolError);
    return (e as Error).message;
  }
  throw new Error("accepted");
}

describe("a host pool file", () => {
  it("reads each host's connection with the stack settings' defaults, and its key only when asked", () => {
    const hosts = parsePool(GOOD, "pool.yaml");
    expect(hosts.map(({ name, address, user, port, jump, keySource }) => ({ name, address, user, port, jump, keySource }))).toEqual([
      { name: "kvm-a", address: "192.0.2.10", user: "root", port: 22, jump: undefined, keySource: "environment variable OL_TEST_KEY_A" },
      { name: "kvm_b", address: "kvm-b.lab.example", user: "qe", port: 2222, jump: { address: "bastion.example", user: "hop", port: 22 }, keySource: `file ${tmp}/kvm-b.key` },
    ]);
    expect(() => hosts[0]!.privateKey()).toThrow("pool.yaml: hosts[0] (kvm-a).key: environment variable OL_TEST_KEY_A is not set");
    process.env.OL_TEST_KEY_A = "-----BEGIN OPENSSH PRIVATE KEY-----\nA\n";
    expect(hosts[0]!.privateKey()).toContain("BEGIN OPENSSH");
    delete process.env.OL_TEST_KEY_A;
    expect(() => hosts[1]!.privateKey()).toThrow(`pool.yaml: hosts[1] (kvm_b).key: cannot read ${tmp}/kvm-b.key: ENOENT`);
    fs.writeFileSync(path.join(tmp, "kvm-b.key"), "KEY B", { mode: 0o600 });
    expect(hosts[1]!.privateKey()).toBe("KEY B");
  });

  it("puts the host into its stacks: the name after the stack's, the connection and the name as settings", () => {
    const [a, b] = parsePool(GOOD, "pool.yaml");
    expect(hostStackName("sandbox-uso-on", a!)).toBe("sandbox-uso-on.kvm-a");
    expect(hostStackName("sandbox-uso-on", null)).toBe("sandbox-uso-on");
    expect(hostSettings(b!)).toEqual({
      "offload-lab:host": { connection: "ssh", address: "kvm-b.lab.example", user: "qe", port: 2222, jump: { address: "bastion.example", user: "hop", port: 22 } },
      "offload-lab:hostName": "kvm_b",
    });
  });

  it("names every problem at once: the entry, the field, the value given and what is allowed", () => {
    const text = `
hosts:
  - name: "a.b"
    address: "10.0.0.1; rm -rf /"
    key: { env: KEY }
  - name: ok
    address: 10.0.0.2
    port: 70000
    user: "Root$(id)"
    key: { file: relative/key }
  - name: ok2
    address: 10.0.0.3
    jump: { address: "\`reboot\`" }
    key: { env: "A B" }
    password: hunter2
`;
    const m = problems(text);
    expect(m).toMatch(/^pool\.yaml: \d+ problems:/);
    for (const line of [
      `hosts[0].name: must be a host name for stacks: letters, digits, '_', '-' (no dot), at most 40 (given: "a.b")`,
      `hosts[1].key.file: must be an absolute path (given: "relative/key")`,
      `hosts[2].key.env: must be an environment variable name (given: "A B")`,
      `hosts[2].password: is not a field of a pool (name, address, user, port, jump, key) (given: "hunter2")`,
    ]) expect(m).toContain(line);
    // The connection's own rules are checked once the entry's shape is right.
    const conn = problems(`
hosts:
  - name: a
    address: "10.0.0.1; rm -rf /"
    key: { env: KEY }
  - name: b
    address: 10.0.0.2
    port: 70000
    user: "Root$(id)"
    key: { env: KEY }
  - name: a
    address: 10.0.0.3
    jump: { address: "\`reboot\`" }
    key: { env: KEY }
`);
    for (const line of [
      `hosts[0].address: must be a host name (letters, digits, '.', '-') or an IP address (given: "10.0.0.1; rm -rf /")`,
      `hosts[1].port: must be a whole number from 1 to 65535 (given: 70000)`,
      `hosts[1].user: must be a user name: lower-case letters, digits, '_', '.', '-' (given: "Root$(id)")`,
      "hosts[2].jump.address: must be a host name (letters, digits, '.', '-') or an IP address (given: \"`reboot`\")",
    ]) expect(conn).toContain(line);
  });

  it("refuses an empty pool, bad YAML, a missing file, two hosts of one name, and an unknown --host", () => {
    expect(problems("")).toBe("pool.yaml: hosts: must be a list of hosts (given: nothing)");
    expect(problems("hosts: []")).toBe("pool.yaml: hosts: must list at least one host (given: [])");
    expect(problems("hosts: [")).toMatch(/^pool\.yaml: not valid YAML: /);
    expect(problems("hosts:\n  - {name: a, address: 10.0.0.1, key: {env: K}}\n  - {name: a, address: 10.0.0.2, key: {env: K}}\n"))
      .toBe('pool.yaml: hosts[1].name: names another host already (given: "a")');
    expect(() => readPool(path.join(tmp, "absent.yaml"))).toThrow(`--hosts ${tmp}/absent.yaml: no such file`);
    const pool = parsePool(GOOD, "pool.yaml");
    expect(chooseHosts(pool, ["kvm_b"], "pool.yaml").map((h) => h.name)).toEqual(["kvm_b"]);
    expect(() => chooseHosts(pool, ["kvm-c"], "pool.yaml")).toThrow("--host kvm-c: not in pool.yaml; its hosts: kvm-a, kvm_b");
  });

  it("a sweep given a bad pool or an unreadable key exits 2 with the message, before anything runs", async () => {
    const file = path.join(tmp, "pool.yaml");
    fs.writeFileSync(file, "hosts:\n  - {name: a, address: '1.2.3.4 -oProxyCommand=x', key: {env: OL_TEST_UNSET}}\n");
    const run = async (...args: string[]) => {
      const err: string[] = [];
      const code = await main(["node", "offload-lab", ...args], { io: { out: () => undefined, err: (l) => err.push(l) } });
      return { code, err: err.join("\n") };
    };
    const bad = await run("sweep", "--hosts", file, "--stacks", "sandbox-uso-on", "--out", path.join(tmp, "out"));
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(`${file}: hosts[0].address: must be a host name (letters, digits, '.', '-') or an IP address (given: "1.2.3.4 -oProxyCommand=x")`);
    fs.writeFileSync(file, "hosts:\n  - {name: a, address: 192.0.2.1, key: {env: OL_TEST_UNSET}}\n");
    const key = await run("sweep", "--hosts", file, "--stacks", "sandbox-uso-on", "--out", path.join(tmp, "out"));
    expect(key.code).toBe(2);
    expect(key.err).toBe(`${file}: hosts[0] (a).key: environment variable OL_TEST_UNSET is not set`);
    const up = await run("up", "--stack", "sandbox-uso-on", "--hosts", file);
    expect(up.code).toBe(2);
    expect(up.err).toBe(`--hosts ${file}: name the host with --host NAME (once)`);
    expect(fs.existsSync(path.join(tmp, "out"))).toBe(false);
  });
});

describe("the summary's command for a stack left on a pool host", () => {
  it("quotes the pool file's path, whatever it holds", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "it's a pool "));
    const file = path.join(dir, "pool $(x).yaml");
    fs.writeFileSync(path.join(dir, "k"), "KEY");
    fs.writeFileSync(file, `hosts:\n  - {name: a, address: 192.0.2.1, key: {file: ${JSON.stringify(path.join(dir, "k"))}}}\n`);
    const ws = new FakeWorkspace();
    ws.failUp.add("mtu1500-uso-off.a");
    const err: string[] = [];
    const code = await main(["node", "offload-lab", "sweep", "--hosts", file, "--stacks", "mtu1500-uso-off", "--out", path.join(dir, "out")], {
      io: { out: () => undefined, err: (l) => err.push(l) },
      workspace: () => ws,
    });
    expect(code).toBe(3);
    const line = err.find((l) => l.startsWith("left up: mtu1500-uso-off.a on a"))!;
    const command = /remove it with: (.*)$/.exec(line)![1]!;
    expect(parse(command)).toEqual(["offload-lab", "destroy", "--stack", "mtu1500-uso-off", "--hosts", file, "--host", "a"]);
  });
});
