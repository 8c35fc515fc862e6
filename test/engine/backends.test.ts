import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pulumiCli } from "../support/engine";

// The shared state backend a sweep's hosts (or a CI matrix's jobs) use at once, through the
// Automation API and the pinned CLI, with a program of its own (the backend does not care what
// the program makes): a file backend, and an S3-compatible one (gofakes3 v1.2.0, built from the
// Go module proxy by scripts/go-tool.sh, on loopback). For each: two stacks updated at the same
// time both land, with their own outputs; an update of a stack that is being updated is refused
// as locked, and the first one still lands.

const cli = pulumiCli();

function gofakes3(): { ok: true } | { ok: false; reason: string } {
  try {
    execFileSync("sh", ["-c", "command -v gofakes3"], { stdio: "ignore" });
    return { ok: true };
  } catch {
    const reason = 'no gofakes3 on PATH: PATH="$(bash scripts/go-tool.sh gofakes3):$PATH"';
    if (process.env.CI === "true") throw new Error(`CI must test the S3-compatible backend: ${reason}`);
    return { ok: false, reason };
  }
}
const s3 = gofakes3();
const skip = !cli.ok ? cli.reason : null;
if (skip !== null) console.log(`backend tests skipped: ${skip}`);
if (!s3.ok) console.log(`S3 backend test skipped: ${s3.reason}`);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(skip !== null)("state backends under concurrent updates", () => {
  let tmp: string;
  let server: ChildProcess | undefined;
  const backends: [string, () => Promise<string>, boolean][] = [
    ["file", async () => `file://${fs.mkdtempSync(path.join(tmp, "state-"))}`, true],
    [
      "S3-compatible (gofakes3)",
      async () => {
        const port = await freePort();
        server = spawn("gofakes3", ["-backend", "memory", "-host", `127.0.0.1:${port}`, "-initialbucket", "offload-lab-state"], { stdio: "ignore" });
        // Up when it answers.
        for (let i = 0; i < 50; i++) {
          const up = await new Promise<boolean>((r) => net.connect(port, "127.0.0.1").on("connect", function (this: net.Socket) { this.end(); r(true); }).on("error", () => r(false)));
          if (up) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        return `s3://offload-lab-state?endpoint=http://127.0.0.1:${port}&use_path_style=true&region=us-east-1`;
      },
      s3.ok,
    ],
  ];

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-backends-"));
  });
  afterAll(() => {
    server?.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const [kind, start, enabled] of backends) {
    it.skipIf(!enabled)(`${kind}: two stacks at once both land; a second update of one stack is refused as locked`, async () => {
      const url = await start();
      const pulumiCommand = await PulumiCommand.get();
      const envVars = {
        PULUMI_BACKEND_URL: url,
        PULUMI_CONFIG_PASSPHRASE: "backend test",
        PULUMI_HOME: fs.mkdtempSync(path.join(tmp, "home-")),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_REGION: "us-east-1",
      };
      // Each stack in its own workspace folder, as the sweep's working copies are.
      const stackOf = async (name: string) => {
        const workDir = fs.mkdtempSync(path.join(tmp, `ws-${name}-`));
        return LocalWorkspace.createOrSelectStack(
          {
            stackName: name,
            projectName: "offload-lab-backend-test",
            program: async () => {
              await new Promise((r) => setTimeout(r, 4000));
              return { stack: pulumi.getStack(), secret: pulumi.secret(`only ${pulumi.getStack()}`) };
            },
          },
          { workDir, envVars, pulumiCommand, secretsProvider: "passphrase" },
        );
      };
      const [a, b] = await Promise.all([stackOf("host-a"), stackOf("host-b")]);
      const times: Record<string, [number, number]> = {};
      const timed = async (name: string, f: () => Promise<unknown>) => {
        const t0 = Date.now();
        await f();
        times[name] = [t0, Date.now()];
      };
      await Promise.all([timed("a", () => a.up()), timed("b", () => b.up())]);
      expect(times.a![0] < times.b![1] && times.b![0] < times.a![1]).toBe(true);
      expect((await a.outputs()).stack!.value).toBe("host-a");
      expect((await b.outputs()).secret).toMatchObject({ value: "only host-b", secret: true });
      const listed = (await a.workspace.listStacks()).map((s) => s.name.split("/").pop()).sort();
      expect(listed).toEqual(["host-a", "host-b"]);

      // The same stack twice at once: the second is refused while the first holds the lock.
      const again = await stackOf("host-a");
      const first = a.up();
      await new Promise((r) => setTimeout(r, 1500));
      await expect(again.up()).rejects.toThrow(/locked/);
      await first;
      expect((await a.history()).length).toBe(2);
    }, 300_000);
  }
});
