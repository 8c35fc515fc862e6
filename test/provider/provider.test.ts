import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { parse } from "shell-quote";
import { describe, expect, it } from "vitest";
import { commandProvider as p } from "../../src/provider/provider";
import { isSecret, reveal, secret } from "../../src/provider/properties";
import { sshArgv } from "../../src/provider/remote";

// The lab's command provider against @pulumi/command 1.2.1's behaviour, method by method, with
// real processes. Through the engine it is exercised by test/engine/sandbox.test.ts.

const LOCAL = "urn:pulumi:dev::offload-lab::offload-lab:lab:network$command:local:Command::network";
const REMOTE = "urn:pulumi:dev::offload-lab::command:remote:Command::host-readiness";
const sh = ["/bin/bash", "-c"];

describe("check", () => {
  it("accepts the inputs the lab gives", async () => {
    const r = await p.check!(LOCAL, {}, { create: "true", delete: "true", interpreter: sh, triggers: ["a"], environment: { K: secret("v") }, logging: "stdoutAndStderr" });
    expect(r.failures).toBeUndefined();
  });
  it("refuses an input outside the implemented subset by name", async () => {
    const r = await p.check!(LOCAL, {}, { create: "true", assetPaths: ["*"] });
    expect(r.failures).toEqual([{ property: "(inputs)", reason: expect.stringContaining("assetPaths: not supported") }]);
  });
  it("refuses a remote command without a host", async () => {
    const r = await p.check!(REMOTE, {}, { create: "true", connection: secret({ user: "root" }) });
    expect(r.failures?.map((f) => f.property)).toEqual(["connection.host"]);
  });
  it("leaves unknown values (preview) for later", async () => {
    const r = await p.check!(LOCAL, {}, { create: unknownValue });
    expect(r.failures).toBeUndefined();
  });
});

describe("diff", () => {
  const olds = { create: "a", triggers: ["1"], stdout: "out", stderr: "" };
  it("sees no change when only outputs differ from the inputs", async () => {
    expect(await p.diff!("id", LOCAL, olds, { create: "a", triggers: ["1"] })).toEqual({ changes: false, replaces: [] });
  });
  it("replaces when triggers change", async () => {
    expect(await p.diff!("id", LOCAL, olds, { create: "a", triggers: ["2"] })).toEqual({ changes: true, replaces: ["triggers"] });
  });
  it("updates in place when another input changes", async () => {
    expect(await p.diff!("id", LOCAL, olds, { create: "b", triggers: ["1"] })).toEqual({ changes: true, replaces: [] });
  });
  it("compares secrets by value and keys in any order", async () => {
    const o = { environment: secret({ A: "1", B: "2" }), stdout: "" };
    expect((await p.diff!("id", LOCAL, o, { environment: { B: "2", A: secret("1") } })).changes).toBe(false);
  });
  it("counts an unknown value as a change", async () => {
    expect((await p.diff!("id", LOCAL, olds, { create: "a", triggers: [unknownValue] })).replaces).toEqual(["triggers"]);
  });
});

describe("create, update, delete", () => {
  it("runs create with the interpreter, environment and stdin; outputs lose one trailing newline", async () => {
    const r = await p.create!(LOCAL, { create: 'printf "%s|" "$K"; cat; echo; echo warn >&2', interpreter: sh, environment: { K: "v a" }, stdin: "in\n" });
    expect(r.outs).toMatchObject({ stdout: "v a|in\n", stderr: "warn", create: expect.any(String) });
    expect(r.id).toMatch(/^network-[0-9a-f]{8}$/);
  });
  it("defaults to /bin/sh -c", async () => {
    const r = await p.create!(LOCAL, { create: "readlink /proc/$$/exe" });
    expect(fs.realpathSync(r.outs.stdout)).toBe(fs.realpathSync("/bin/sh"));
  });
  it("makes stdout and stderr secret when an input holds a secret, and keeps the input's own", async () => {
    const r = await p.create!(LOCAL, { create: 'echo "$K"', environment: { K: secret("hidden") } });
    expect(isSecret(r.outs.stdout)).toBe(true);
    expect(reveal(r.outs.stdout)).toBe("hidden");
    expect(isSecret(r.outs.environment.K)).toBe(true);
    const plain = await p.create!(LOCAL, { create: "echo x" });
    expect(plain.outs.stdout).toBe("x");
  });
  it("fails with the exit status, the command and everything it printed", async () => {
    await expect(p.create!(LOCAL, { create: "echo partial; echo 'port 12345 taken' >&2; exit 3" })).rejects.toThrow(
      /^exit status 3: running "echo partial; echo 'port 12345 taken' >&2; exit 3":\npartial\nport 12345 taken\n$/,
    );
  });
  it("update runs update, else create, with the previous output in the environment", async () => {
    const olds = { create: "echo one", stdout: "one", stderr: "" };
    const viaCreate = await p.update!("id", LOCAL, olds, { create: 'echo "was $PULUMI_COMMAND_STDOUT"' });
    expect(viaCreate.outs.stdout).toBe("was one");
    const viaUpdate = await p.update!("id", LOCAL, olds, { create: "echo no", update: "echo yes" });
    expect(viaUpdate.outs.stdout).toBe("yes");
    const without = await p.update!("id", LOCAL, olds, { create: 'echo "[${PULUMI_COMMAND_STDOUT-unset}]"', addPreviousOutputInEnv: false });
    expect(without.outs.stdout).toBe("[unset]");
  });
  it("update without a command keeps the previous output", async () => {
    const r = await p.update!("id", LOCAL, { stdout: "kept", stderr: "" }, { delete: "true" });
    expect(r.outs).toMatchObject({ stdout: "kept", delete: "true" });
  });
  it("delete runs delete with the state's environment and output", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provider-test-"));
    const file = path.join(dir, "deleted");
    await p.delete!("id", LOCAL, { delete: `echo "$K $PULUMI_COMMAND_STDOUT" > ${file}`, environment: { K: secret("k") }, stdout: secret("made") });
    expect(fs.readFileSync(file, "utf8")).toBe("k made\n");
    fs.rmSync(dir, { recursive: true });
  });
  it("cancel stops a running command's whole process group with SIGTERM, so its trap runs", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provider-test-"));
    const running = p.create!(LOCAL, { create: `trap 'echo cleaned > ${dir}/trap; exit 1' TERM; touch ${dir}/started; sleep 60 & wait`, interpreter: sh });
    while (!fs.existsSync(path.join(dir, "started"))) await new Promise((r) => setTimeout(r, 20));
    await p.cancel!();
    await expect(running).rejects.toThrow(/^exit status 1: running/);
    expect(fs.readFileSync(path.join(dir, "trap"), "utf8")).toBe("cleaned\n");
    fs.rmSync(dir, { recursive: true });
  });
});

describe("remote connection", () => {
  it("is the system ssh client with the key file, no host key check, and a proxy hop", () => {
    const argv = sshArgv({ host: "kvm1", port: 2222, user: "qe", proxy: { host: "jump;rm -rf /", user: "j" } }, "echo hi", "/k", "/pk");
    expect(argv[0]).toBe("ssh");
    expect(argv.slice(-2)).toEqual(["qe@kvm1", "echo hi"]);
    expect(argv).toEqual(expect.arrayContaining(["-i", "/k", "-p", "2222", "StrictHostKeyChecking=no", "BatchMode=yes"]));
    // The proxy hop is one shell word per argument: a hostile host name stays one argument.
    const proxy = argv[argv.indexOf("-o", argv.indexOf("2222")) + 1]!;
    expect(proxy.startsWith("ProxyCommand=")).toBe(true);
    const words = parse(proxy.slice("ProxyCommand=".length));
    expect(words.slice(0, 3)).toEqual(["ssh", "-F", "/dev/null"]);
    expect(words.slice(-7)).toEqual(["-i", "/pk", "-p", "22", "-W", "%h:%p", "j@jump;rm -rf /"]);
  });
  it("defaults to root on port 22", () => {
    const argv = sshArgv({ host: "kvm1" }, "true");
    expect(argv.slice(-2)).toEqual(["root@kvm1", "true"]);
    expect(argv).toContain("22");
    expect(argv).not.toContain("-i");
  });
});
