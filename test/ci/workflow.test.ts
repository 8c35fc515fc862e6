import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readPool } from "../../src/hosts/pool";

// The example CI workflow for a sharded sweep (docs/ci/github-actions-sweep.yml), linted by
// actionlint built from the Go module proxy (scripts/go-tool.sh actionlint; scripts/test.sh puts it on
// PATH), with the shell of its `run:` steps checked by shellcheck through it; and the pool file
// it names is one offload-lab reads.

const ROOT = path.resolve(__dirname, "..", "..");
const CI = path.join(ROOT, "docs", "ci");
const WORKFLOW = path.join(CI, "github-actions-sweep.yml");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-ci-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function actionlint(): { ok: true } | { ok: false; reason: string } {
  try {
    const v = execFileSync("actionlint", ["-version"], { encoding: "utf8" }).split("\n")[0];
    const pinned = /github\.com\/rhysd\/actionlint (v\S+)/.exec(fs.readFileSync(path.join(ROOT, "tools", "actionlint", "go.mod"), "utf8"))![1];
    if (v !== pinned) return { ok: false, reason: `actionlint on PATH is ${v}, not the pinned ${pinned}` };
    return { ok: true };
  } catch (e) {
    const reason = `no actionlint on PATH (${(e as Error).message.split("\n")[0]}): PATH="$(bash scripts/go-tool.sh actionlint):$PATH"`;
    if (process.env.CI === "true") throw new Error(`CI must lint the example workflow: ${reason}`);
    return { ok: false, reason };
  }
}

const lint = actionlint();
if (!lint.ok) console.log(`workflow lint skipped: ${lint.reason}`);

const run = (file: string) =>
  spawnSync("actionlint", ["-no-color", "-shellcheck", "shellcheck", "-config-file", path.join(CI, "actionlint.yaml"), file], { encoding: "utf8" });

describe.skipIf(!lint.ok)("the example GitHub Actions workflow", () => {
  it("passes actionlint, shellcheck included", () => {
    const r = run(WORKFLOW);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("a broken copy fails it (the lint can fail): an unknown matrix key and a shell mistake", () => {
    const broken = path.join(tmp, "broken.yml");
    fs.writeFileSync(
      broken,
      fs.readFileSync(WORKFLOW, "utf8").replace("SHARD: ${{ matrix.shard }}", "SHARD: ${{ matrix.shards }}").replace('--out "sweep-$SHARD"', "--out sweep-$SHARD $(ls *.json)"),
    );
    const r = run(broken);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/property "shards" is not defined/);
    expect(r.stdout).toMatch(/shellcheck reported issue/);
  });
});

describe("the example's sweep", () => {
  const workflow = parse(fs.readFileSync(WORKFLOW, "utf8")) as {
    env: Record<string, string>;
    jobs: { sweep: { strategy: { matrix: { include: { shard: number; host: string }[] } } } };
  };

  it("has one job per shard, each on a host of the pool file it names, which offload-lab reads", () => {
    const include = workflow.jobs.sweep.strategy.matrix.include;
    expect(include.map((j) => j.shard)).toEqual(Array.from({ length: Number(workflow.env.SHARDS) }, (_, i) => i + 1));
    const pool = readPool(path.join(CI, "pool.yaml"));
    expect(include.map((j) => j.host)).toEqual(pool.map((h) => h.name));
    for (const stack of workflow.env.STACKS!.split(",")) expect(fs.existsSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`)), stack).toBe(true);
  });
});
