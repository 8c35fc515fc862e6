import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// scripts/build.js is the CommonJS the installed command loads before anything is compiled.
const { ensureBuilt } = require("../../scripts/build.js") as { ensureBuilt: (root?: string) => { entry: string; compiled: boolean } };

const ROOT = path.resolve(__dirname, "..", "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-build-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const filesUnder = (dir: string) =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name))).sort();

/** A project shaped like offload-lab's: a step folder holding its TypeScript and its script. */
function project(): string {
  const root = fs.mkdtempSync(path.join(tmp, "project-"));
  fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(root, "tsconfig.json"));
  const step = path.join(root, "src", "plan", "demo");
  fs.mkdirSync(step, { recursive: true });
  fs.writeFileSync(path.join(step, "create.sh"), "#!/bin/bash\necho created\n", { mode: 0o755 });
  fs.writeFileSync(path.join(step, "index.ts"), [
    'import * as fs from "node:fs";',
    'import * as path from "node:path";',
    'import { label } from "./label";',
    'export const script = (): string => fs.readFileSync(path.join(__dirname, "create.sh"), "utf8");',
    "export const name: string = label();",
  ].join("\n"));
  fs.writeFileSync(path.join(step, "label.ts"), 'export const label = (): string => "demo";\n');
  return root;
}

describe("scripts/build.js", () => {
  it("compiles each .ts beside its folder's other files, which the compiled code finds by __dirname", () => {
    const root = project();
    expect(ensureBuilt(root).compiled).toBe(true);
    const dist = path.join(root, "dist");
    expect(filesUnder(dist)).toEqual([".build-stamp", "plan/demo/create.sh", "plan/demo/index.js", "plan/demo/index.js.map", "plan/demo/label.js", "plan/demo/label.js.map"]);
    expect(fs.statSync(path.join(dist, "plan/demo/create.sh")).mode & 0o777).toBe(0o755);
    const r = spawnSync("node", ["-e", `const m = require(${JSON.stringify(path.join(dist, "plan/demo/index.js"))}); process.stdout.write(m.name + ":" + m.script())`], { encoding: "utf8" });
    expect(r.stdout, r.stderr).toBe("demo:#!/bin/bash\necho created\n");
  });

  it("does nothing while the sources are unchanged, and compiles again after an edit", () => {
    const root = project();
    ensureBuilt(root);
    const out = path.join(root, "dist", "plan/demo/label.js");
    const before = fs.statSync(out).mtimeMs;
    expect(ensureBuilt(root).compiled).toBe(false);
    expect(fs.statSync(out).mtimeMs).toBe(before);
    fs.writeFileSync(path.join(root, "src", "plan/demo/label.ts"), 'export const label = (): string => "edited";\n');
    expect(ensureBuilt(root).compiled).toBe(true);
    expect(fs.readFileSync(out, "utf8")).toContain('"edited"');
  });

  it("removes what a deleted source compiled to", () => {
    const root = project();
    ensureBuilt(root);
    fs.writeFileSync(path.join(root, "src", "plan/demo/index.ts"), "export const name = 1;\n");
    fs.rmSync(path.join(root, "src", "plan/demo/label.ts"));
    fs.rmSync(path.join(root, "src", "plan/demo/create.sh"));
    ensureBuilt(root);
    expect(filesUnder(path.join(root, "dist"))).toEqual([".build-stamp", "plan/demo/index.js", "plan/demo/index.js.map"]);
  });

  it("leaves the project's dist/ holding every file of src/: .ts compiled, the rest byte for byte", () => {
    ensureBuilt();
    const src = path.join(ROOT, "src");
    const dist = path.join(ROOT, "dist");
    for (const f of filesUnder(src)) {
      if (f.endsWith(".ts")) expect(fs.existsSync(path.join(dist, f.replace(/\.ts$/, ".js"))), f).toBe(true);
      else expect(fs.readFileSync(path.join(dist, f)).equals(fs.readFileSync(path.join(src, f))), f).toBe(true);
    }
  });
});

describe("the compiled Pulumi program", () => {
  // `offload-lab up` and `sweep` serve the program from dist/ (the Automation API's inline
  // program); it must register what the sources register (test/program checks those).
  it("registers the lab of a stack under Pulumi mocks", () => {
    ensureBuilt();
    const script = `
      const pulumi = require("@pulumi/pulumi");
      const yaml = require("yaml");
      const fs = require("fs");
      const doc = yaml.parse(fs.readFileSync("stacks/Pulumi.mtu9000-uso-on.yaml", "utf8"));
      const config = {};
      for (const [k, v] of Object.entries(doc.config)) config[k] = typeof v === "string" ? v : JSON.stringify(v);
      pulumi.runtime.setAllConfig(config, []);
      const registered = [];
      pulumi.runtime.setMocks({ newResource: (a) => { registered.push(a.type + " " + a.name); return { id: a.name, state: a.inputs }; }, call: () => ({}) }, "offload-lab", "mtu9000-uso-on", true)
        .then(() => { const program = require("./dist/index.js"); setTimeout(() => { console.log(JSON.stringify({ exports: Object.keys(program).sort(), registered })); process.exit(0); }, 2000); });`;
    const r = spawnSync("node", ["-e", script], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const { exports, registered } = JSON.parse(r.stdout.trim().split("\n").pop()!) as { exports: string[]; registered: string[] };
    expect(exports).toEqual(["cells", "factors", "fingerprint", "guest", "host", "iperf3Server", "mtu", "network", "offloadReadback", "os", "stack", "summary", "uso", "variant"]);
    expect(registered.filter((x) => x.startsWith("command:local:Command ")).map((x) => x.split(" ")[1]).sort()).toEqual(
      ["benchmark", "guest-check", "guest-disk", "guest-domain", "guest-network", "guest-offloads", "host-firewall", "host-offloads", "host-readiness", "iperf3-server", "network"],
    );
  });
});

describe("the installed command when dist/ cannot be built", () => {
  it("says so and runs the same command from the TypeScript sources", () => {
    // A checkout whose dist is a file: every write into it fails, as on a read-only checkout.
    const root = fs.mkdtempSync(path.join(tmp, "checkout-"));
    fs.cpSync(path.join(ROOT, "bin"), path.join(root, "bin"), { recursive: true });
    fs.mkdirSync(path.join(root, "scripts"));
    fs.copyFileSync(path.join(ROOT, "scripts", "build.js"), path.join(root, "scripts", "build.js"));
    for (const f of ["package.json", "tsconfig.json"]) fs.copyFileSync(path.join(ROOT, f), path.join(root, f));
    for (const d of ["src", "node_modules", "stacks"]) fs.symlinkSync(path.join(ROOT, d), path.join(root, d));
    fs.writeFileSync(path.join(root, "dist"), "not a folder\n");
    const out = path.join(tmp, "fallback-render");
    const r = spawnSync("node", [path.join(root, "bin", "offload-lab.js"), "--project", root, "render", "--stack", "linux-uso-on", "--out", out], { cwd: root, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^offload-lab: cannot build dist\/ \(.+\); running from the TypeScript sources, which starts slower\n$/);
    expect(fs.existsSync(path.join(out, "manifest.json"))).toBe(true);
  });
});
