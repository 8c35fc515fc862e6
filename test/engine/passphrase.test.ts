import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main";
import { backendKey, WORK_DIR } from "../../src/engine/workingCopy";
import { privateBackend, pulumiCli } from "../support/engine";
import { PROJECT_DIR } from "../support/programHarness";

// A wrong passphrase through the real engine: `offload-lab preview` of a stack made with another
// one exits 2 naming the backend, the variables and the file, never a trace; and a salt kept in a
// working copy from a stack the backend no longer has is no reason to fail.

const cli = pulumiCli();
if (!cli.ok) console.log(`passphrase engine test skipped: ${cli.reason}`);
const STACK_LINE = /^\s+at .+(\(|:\d+)/m;

async function preview(passphrase: string): Promise<{ code: number; err: string }> {
  const saved = { p: process.env.PULUMI_CONFIG_PASSPHRASE, f: process.env.PULUMI_CONFIG_PASSPHRASE_FILE };
  process.env.PULUMI_CONFIG_PASSPHRASE = passphrase;
  delete process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
  const err: string[] = [];
  const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  const log = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await main(["node", "offload-lab", "--project", PROJECT_DIR, "preview", "--stack", "linux-uso-on"], {
      io: { out: () => undefined, err: (l) => err.push(l) },
    });
    return { code, err: err.join("\n") };
  } finally {
    write.mockRestore();
    log.mockRestore();
    for (const [k, v] of [["PULUMI_CONFIG_PASSPHRASE", saved.p], ["PULUMI_CONFIG_PASSPHRASE_FILE", saved.f]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe.skipIf(!cli.ok)("the passphrase through the real engine", () => {
  let backend: ReturnType<typeof privateBackend>;
  beforeAll(() => {
    backend = privateBackend();
  });
  afterAll(() => backend?.remove());

  it("a stack made with one passphrase and previewed with another exits 2 with what to do", async () => {
    const made = await preview("the first passphrase");
    expect(made.code, made.err).toBe(0);
    const r = await preview("another passphrase");
    expect(r.code).toBe(2);
    expect(r.err.split("\n")).toEqual([
      `the passphrase from PULUMI_CONFIG_PASSPHRASE does not open the secrets of stack linux-uso-on in backend ${backend.url}`,
      `give the one it was made with (PULUMI_CONFIG_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE_FILE or ${PROJECT_DIR}/.offload-lab/passphrase), ` +
        "or remove the stack from that backend: pulumi stack rm --force linux-uso-on",
    ]);
    expect(r.err).not.toMatch(STACK_LINE);
  }, 300_000);

  it("a working copy's salt from a stack the backend no longer has is dropped, not an error", async () => {
    const copy = path.join(PROJECT_DIR, WORK_DIR, backendKey(backend.url), "linux-uso-on", "Pulumi.linux-uso-on.yaml");
    expect(fs.readFileSync(copy, "utf8")).toMatch(/^encryptionsalt: v1:/m);
    // The state removed (a new backend folder, say), the working copy kept.
    fs.rmSync(path.join(backend.dir, ".pulumi"), { recursive: true, force: true });
    const r = await preview("another passphrase");
    expect(r.code, r.err).toBe(0);
  }, 300_000);
});
