import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  checkoutPassphraseFile, ensureCheckoutPassphrase, isPassphraseFailure, missingPassphrase, passphraseEnvironment, passphraseSource, wrongPassphrase,
} from "../../src/engine/passphrase";
import { engineStackName, targetSettings } from "../../src/engine/stack";
import { lentGuestKey } from "../../src/engine/target";
import { checkStackTarget } from "../../src/cli/stackCheck";
import { parseStackDoc, withSettings, workingCopyDir, writeWorkingCopy } from "../../src/engine/workingCopy";
import { fakeHost } from "../support/fakeSweepWorkspace";

// The engine's working copy of the stack settings and the one passphrase source, without the
// engine: what is written where, and that the committed files are never among it.

const ROOT = path.resolve(__dirname, "..", "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-workcopy-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function project(): string {
  const dir = fs.mkdtempSync(path.join(tmp, "project-"));
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.cpSync(path.join(ROOT, "stacks"), path.join(dir, "stacks"), { recursive: true });
  return dir;
}

/** Every file of a folder and its text: what must not change. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

describe("the working copy of a stack's settings", () => {
  it("is the committed file with the host and runId set in, beside a project file whose plugins are found from there", () => {
    const dir = project();
    const committed = snapshot(path.join(dir, "stacks"));
    const host = fakeHost("kvm-a");
    const target = { stack: "sandbox-uso-on", host, runId: "sweep-1-s2" };
    const name = engineStackName(target);
    expect(name).toBe("sandbox-uso-on.kvm-a");
    const doc = parseStackDoc(committed["Pulumi.sandbox-uso-on.yaml"]!);
    const work = writeWorkingCopy(dir, "file:///state", name, doc, targetSettings(target));
    expect(work).toBe(workingCopyDir(dir, "file:///state", name));
    expect(work.startsWith(path.join(dir, ".offload-lab", "work"))).toBe(true);
    const copy = parse(fs.readFileSync(path.join(work, `Pulumi.${name}.yaml`), "utf8")) as { config: Record<string, unknown> };
    expect(copy.config["offload-lab:host"]).toEqual({ connection: "ssh", address: host.address, user: "root", port: 22 });
    expect(copy.config["offload-lab:hostName"]).toBe("kvm-a");
    expect(copy.config["offload-lab:benchmark"]).toEqual({ runId: "sweep-1-s2" });
    // Everything else is the committed file's.
    const { "offload-lab:host": _h, "offload-lab:hostName": _n, "offload-lab:benchmark": _b, ...rest } = copy.config;
    const { "offload-lab:host": _c, ...committedRest } = doc.config!;
    expect(rest).toEqual(committedRest);
    const projectFile = parse(fs.readFileSync(path.join(work, "Pulumi.yaml"), "utf8")) as { stackConfigDir?: string; plugins: { providers: { path: string }[] } };
    expect(projectFile.stackConfigDir).toBeUndefined();
    expect(projectFile.plugins.providers[0]!.path).toBe(path.join(dir, "provider"));
    expect(snapshot(path.join(dir, "stacks"))).toEqual(committed);
  });

  it("keeps the stack's salt from the previous copy, unless the committed file has its own", () => {
    const dir = project();
    const file = path.join(workingCopyDir(dir, "b", "s"), "Pulumi.s.yaml");
    writeWorkingCopy(dir, "b", "s", { config: { "offload-lab:x": 1 } }, {});
    // What `pulumi stack init` and `config set --secret` add to the working copy.
    fs.appendFileSync(file, "encryptionsalt: v1:abc\n");
    writeWorkingCopy(dir, "b", "s", { config: { "offload-lab:x": 2 } }, {});
    expect(parse(fs.readFileSync(file, "utf8"))).toEqual({ config: { "offload-lab:x": 2 }, encryptionsalt: "v1:abc" });
    writeWorkingCopy(dir, "b", "s", { config: {}, encryptionsalt: "v1:committed" }, {});
    expect(parse(fs.readFileSync(file, "utf8"))).toMatchObject({ encryptionsalt: "v1:committed" });
    writeWorkingCopy(dir, "b", "s", { config: {} }, {}, false);
    expect(parse(fs.readFileSync(file, "utf8"))).toEqual({ config: {} });
    // One folder per backend: a salt belongs to the stack in that backend.
    expect(workingCopyDir(dir, "file:///one", "s")).not.toBe(workingCopyDir(dir, "s3://two", "s"));
  });

  it("keeps the stack's host.firewall when a pool or sandbox host replaces its connection", () => {
    const host = fakeHost("kvm-a");
    const committed = parseStackDoc("config:\n  offload-lab:host:\n    connection: local\n    firewall: leave\n");
    const doc = withSettings(committed, targetSettings({ stack: "s", host }, committed));
    expect(doc.config!["offload-lab:host"]).toEqual({ connection: "ssh", address: host.address, user: "root", port: 22, firewall: "leave" });
    // A stack that says nothing keeps the default; a stack on its own host keeps its settings as written.
    const silent = parseStackDoc("config:\n  offload-lab:host:\n    connection: local\n");
    expect(withSettings(silent, targetSettings({ stack: "s", host }, silent)).config!["offload-lab:host"]).not.toHaveProperty("firewall");
    expect(withSettings(committed, targetSettings({ stack: "s" }, committed)).config!["offload-lab:host"]).toEqual({ connection: "local", firewall: "leave" });
  });

  it("sets a path key inside its map, leaving the map's other keys", () => {
    expect(withSettings({ config: { "offload-lab:benchmark": { runId: "1", other: true } } }, { "offload-lab:benchmark.runId": "2" }).config)
      .toEqual({ "offload-lab:benchmark": { runId: "2", other: true } });
  });
});

describe("the one passphrase source", () => {
  const env = (vars: Record<string, string>) => vars as NodeJS.ProcessEnv;

  it("is the variable, else the variable's file, else the checkout's file, in Pulumi's order", () => {
    const dir = project();
    expect(passphraseSource(dir, env({}))).toBeNull();
    const made = ensureCheckoutPassphrase(dir, env({}));
    expect(made).toEqual({ kind: "checkout-file", file: checkoutPassphraseFile(dir) });
    expect(fs.statSync(made.kind === "checkout-file" ? made.file : "").mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(checkoutPassphraseFile(dir), "utf8").trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(passphraseSource(dir, env({}))).toEqual(made);
    expect(passphraseEnvironment(made)).toEqual({ PULUMI_CONFIG_PASSPHRASE_FILE: checkoutPassphraseFile(dir) });
    expect(passphraseSource(dir, env({ PULUMI_CONFIG_PASSPHRASE_FILE: "/k" }))).toEqual({ kind: "variable-file", file: "/k" });
    expect(passphraseSource(dir, env({ PULUMI_CONFIG_PASSPHRASE: "", PULUMI_CONFIG_PASSPHRASE_FILE: "/k" }))).toEqual({ kind: "variable" });
    // Made once: a second call finds it and keeps it.
    const before = fs.readFileSync(checkoutPassphraseFile(dir), "utf8");
    ensureCheckoutPassphrase(dir, env({}));
    expect(fs.readFileSync(checkoutPassphraseFile(dir), "utf8")).toBe(before);
  });

  it("a missing or wrong one is a two-line user error naming backend, variables and file", () => {
    expect(missingPassphrase("/p", "file:///p/.offload-lab/state").message).toBe(
      "no passphrase for the stacks' secrets in backend file:///p/.offload-lab/state: set PULUMI_CONFIG_PASSPHRASE or " +
        "PULUMI_CONFIG_PASSPHRASE_FILE, or put one in /p/.offload-lab/passphrase (bash scripts/main.sh makes one)",
    );
    const wrong = wrongPassphrase("/p", { kind: "variable-file", file: "/k" }, "s3://bucket", "sandbox-uso-on.kvm-a").message.split("\n");
    expect(wrong).toEqual([
      "the passphrase from PULUMI_CONFIG_PASSPHRASE_FILE (/k) does not open the secrets of stack sandbox-uso-on.kvm-a in backend s3://bucket",
      "give the one it was made with (PULUMI_CONFIG_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE_FILE or /p/.offload-lab/passphrase), or remove the stack from that backend: pulumi stack rm --force sandbox-uso-on.kvm-a",
    ]);
    // What the CLI prints (recorded from pulumi v3.248.0): a wrong passphrase, and none.
    expect(isPassphraseFailure(new Error("error: could not create secrets manager for new stack: incorrect passphrase"))).toBe(true);
    expect(isPassphraseFailure(new Error("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables"))).toBe(true);
    expect(isPassphraseFailure(new Error("error: exit status 1: running \"...\""))).toBe(false);
  });
});

describe("a host's guest key pair (a sandbox's), lent to a stack that reaches its Linux guest over SSH", () => {
  // A real key pair, so the working copy's settings pass the config's own key check.
  const keyDir = fs.mkdtempSync(path.join(tmp, "guest-key-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "sandbox guest", "-f", path.join(keyDir, "id")]);
  const guestKey = { publicKey: fs.readFileSync(path.join(keyDir, "id.pub"), "utf8").trimEnd(), privateKey: () => "PRIVATE-GUEST-KEY-7c1e" };
  const host = { ...fakeHost("sandbox-0"), guestKey };

  it("puts the public key into the working copy of sandbox-ssh as guest.ssh.authorizedKey, never the private one", () => {
    const dir = project();
    const committed = snapshot(path.join(dir, "stacks"));
    const doc = parseStackDoc(committed["Pulumi.sandbox-ssh.yaml"]!);
    const target = { stack: "sandbox-ssh", host };
    expect(lentGuestKey(target, doc)).toBe(guestKey);
    const work = writeWorkingCopy(dir, "file:///state", engineStackName(target), doc, targetSettings(target, doc));
    const text = fs.readFileSync(path.join(work, "Pulumi.sandbox-ssh.sandbox-0.yaml"), "utf8");
    const copy = parse(text) as { config: Record<string, { ssh?: unknown; access?: unknown }> };
    expect(copy.config["offload-lab:guest"]!.ssh).toEqual({ authorizedKey: guestKey.publicKey });
    expect(copy.config["offload-lab:guest"]!.access).toBe("ssh");
    expect(text).not.toContain("PRIVATE-GUEST-KEY");
    expect(snapshot(path.join(dir, "stacks"))).toEqual(committed);
    // What up checks first: the lent key and the placeholder secret it replaces pass.
    const cfg = checkStackTarget(dir, target);
    expect(cfg.guest.ssh.authorizedKey).toBe(guestKey.publicKey);
  });

  it("lends nothing to a stack that uses the agent, to a host without a pair, or over a stack's own key", () => {
    const doc = parseStackDoc(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.sandbox-uso-on.yaml"), "utf8"));
    expect(lentGuestKey({ stack: "sandbox-uso-on", host }, doc)).toBeNull();
    expect(Object.keys(targetSettings({ stack: "sandbox-uso-on", host }, doc))).not.toContain("offload-lab:guest.ssh.authorizedKey");
    const ssh = parseStackDoc(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.sandbox-ssh.yaml"), "utf8"));
    expect(lentGuestKey({ stack: "sandbox-ssh", host: fakeHost("kvm-a") }, ssh)).toBeNull();
    const own = withSettings(ssh, { "offload-lab:guest.ssh.authorizedKey": "ssh-ed25519 OWN" });
    expect(lentGuestKey({ stack: "sandbox-ssh", host }, own)).toBeNull();
  });

  it("without a sandbox, up of sandbox-ssh names the guest key's placeholder and how to fill it", () => {
    const dir = project();
    const doc = fs.readFileSync(path.join(dir, "stacks", "Pulumi.sandbox-ssh.yaml"), "utf8");
    // A pool host lends no guest key: the host key is set, the guest's placeholder is what is left.
    expect(() => checkStackTarget(dir, { stack: "sandbox-ssh", host: fakeHost("kvm-a") })).toThrow(
      /Pulumi\.sandbox-ssh\.yaml: offload-lab:guestSshPrivateKey holds the placeholder "set-by-the-sandbox", not a secret: run the stack on a sandbox \(sweep --sandbox\), which lends its guest key pair, or set it with: pulumi config set --secret guestSshPrivateKey < FILE/,
    );
    expect(doc).toContain("set-by-the-sandbox");
  });
});
