import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canUseNamespaces, Namespace } from "../../sandbox/netns";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { guestStepCommand } from "../guestStep";
import { netnsTransport } from ".";
import type { Transport } from "./transport";

const ns = canUseNamespaces();
if (!ns.ok) console.warn(`skipping netns transport tests: ${ns.reason}`);

/** A transport that hands the script back, to see exactly what guest_exec received. */
const ECHO: Transport = { kind: "netns", description: "echo", functionDefinition: "guest_exec() { cat; }", secretEnv: {}, hostTools: [] };

const HOSTILE = [
  "echo $(id) `id` ${HOME} $'x' \"dq\" 'sq' \\ backslash",
  "EOF",
  "OFFLOAD_LAB_GUEST_SCRIPT_0000000000000000",
  "  trailing spaces  ",
  "tab\there; ünïcödé ‘’",
  "",
].join("\n");

describe("guestStepCommand", () => {
  it("hands the guest script to guest_exec unchanged, however hostile", () => {
    const r = spawnSync("bash", ["-c", guestStepCommand(ECHO, HOSTILE)], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(HOSTILE);
    const noNewline = spawnSync("bash", ["-c", guestStepCommand(ECHO, "echo last")], { encoding: "utf8" });
    expect(noNewline.stdout).toBe("echo last\n");
  });

  it("returns guest_exec's exit code", () => {
    const t: Transport = { ...ECHO, description: "sh", functionDefinition: "guest_exec() { sh -s; }" };
    expect(spawnSync("bash", ["-c", guestStepCommand(t, "exit 9")]).status).toBe(9);
  });
});

describe.skipIf(!ns.ok)("netns transport (tests only)", () => {
  let guest: Namespace;
  beforeAll(() => {
    guest = new Namespace("olgt");
  });
  afterAll(() => guest?.remove());

  it("runs the script with sh inside the namespace", () => {
    const script = "ip -o link show | cut -d: -f2 | tr -d ' '\nreadlink /proc/self/ns/net\n";
    const r = spawnSync("bash", ["-c", guestStepCommand(netnsTransport(guest.name), script)], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const [links, nsLink] = [r.stdout.split("\n").slice(0, -2), r.stdout.split("\n").at(-2)];
    expect(links).toEqual(["lo"]);
    const inside = guest.exec(["readlink", "/proc/self/ns/net"]).trim();
    expect(nsLink).toBe(inside);
  });

  it("keeps a hostile namespace name one argument", () => {
    const t = netnsTransport("no such ns; touch /tmp/ol-pwned-netns");
    expect(boundValue(t.functionDefinition, "OL_NETNS")).toBe("no such ns; touch /tmp/ol-pwned-netns");
    expect(shellcheck(guestStepCommand(t, "true\n"), "bash")).toEqual([]);
    expect([t.kind, t.secretEnv, t.hostTools]).toEqual(["netns", {}, ["ip"]]);
    const r = spawnSync("bash", ["-c", guestStepCommand(t, "true")], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("no such ns; touch /tmp/ol-pwned-netns");
  });
});
