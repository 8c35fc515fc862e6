// Loads the Pulumi program the way the engine's Node.js language host does (see
// @pulumi/pulumi/cmd/run/run.js): package.json "main", ts-node registered with Pulumi's own
// choice of ts-node and TypeScript, type-checking on, CommonJS. Then registers the stack
// under mocks (preview) and prints the registered resources as JSON.
"use strict";
const path = require("path");
const fs = require("fs");
const projectDir = path.resolve(__dirname, "..", "..");
const stack = process.argv[2];
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi", { paths: [projectDir] }));
const tsutils = require(path.join(pulumiDir, "tsutils.js"));
const pulumi = require(pulumiDir);

process.chdir(projectDir);
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly: compilerOptions.noCheck,
  project: "tsconfig.json",
  skipProject: false,
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});

const yaml = require("yaml");
const doc = yaml.parse(fs.readFileSync(path.join(projectDir, "stacks", `Pulumi.${stack}.yaml`), "utf8"));
const config = {};
for (const [k, v] of Object.entries(doc.config)) config[k] = typeof v === "string" ? v : JSON.stringify(v);
pulumi.runtime.setAllConfig(config, []);

const registered = [];
pulumi.runtime.setMocks(
  { newResource: (a) => { registered.push({ type: a.type, name: a.name }); return { id: `${a.name}-id`, state: a.inputs }; }, call: () => ({}) },
  "offload-lab", stack, true,
).then(() => {
  const main = require(path.join(projectDir, "package.json")).main;
  const program = require(path.join(projectDir, main));
  setTimeout(() => {
    console.log(JSON.stringify({ exports: Object.keys(program).sort(), registered }));
    process.exit(0);
  }, 2000);
});
