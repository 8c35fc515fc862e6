import * as fs from "node:fs";
import * as path from "node:path";
import { stringify, YAMLError } from "yaml";
import type { LabConfig } from "../config/model";
import { listStacks, settingsFromStackYaml, stackFilePath } from "../config/stackFile";
import { validateLab } from "../config/validate";
import { engineStackName, HOST_KEY, targetSettings, type StackTarget } from "../engine/target";
import { parseStackDoc, withSettings } from "../engine/workingCopy";
import { UsageError } from "./errors";

/** The settings only the engine's working copy carries; the stack settings' schema does not know them. */

/** A committed `secure:` value that is no passphrase ciphertext: a placeholder a sandbox or pool fills in. */
const CIPHERTEXT = /^v1:/;

/**
 * What `up`, `preview`, `destroy` and `sweep` check before the engine starts, with the lines
 * `render` prints for the same mistakes: a stack file that does not exist names the known
 * stacks; YAML that does not parse names the file; invalid settings (ConfigError) name key,
 * value and what is allowed (exit 2, printed by src/cli/errors.ts). The settings checked are
 * the ones the engine will get: the committed file with the target's host and runId set in.
 */
export function checkStackTarget(project: string, target: StackTarget): LabConfig {
  const file = stackFilePath(project, target.stack);
  if (!fs.existsSync(file)) {
    const known = fs.existsSync(path.join(project, "stacks")) ? listStacks(project) : [];
    throw new UsageError(
      `--stack ${target.stack}: there is no ${path.relative(process.cwd(), file) || file}\n` +
        (known.length > 0 ? `Stacks in ${project}: ${known.join(", ")}` : `No stacks/ folder in ${project}: pass --project <dir>`),
    );
  }
  let doc;
  try {
    doc = parseStackDoc(fs.readFileSync(file, "utf8"));
  } catch (e) {
    if (e instanceof YAMLError) throw new UsageError(`${file}: not valid YAML: ${e.message.split("\n")[0]}`);
    throw e;
  }
  const merged = withSettings(doc, targetSettings(target, doc));
  if (target.host) merged.config = { ...merged.config, [HOST_KEY]: { secure: "v1:set-by-the-host" } };
  const settings = settingsFromStackYaml(stringify(merged));
  const cfg = validateLab(engineStackName(target), settings);
  for (const [key, value] of Object.entries(merged.config ?? {})) {
    const secure = value !== null && typeof value === "object" && "secure" in value ? (value as { secure: unknown }).secure : undefined;
    if (secure !== undefined && !(typeof secure === "string" && CIPHERTEXT.test(secure))) {
      throw new UsageError(
        `${file}: ${key} holds the placeholder ${JSON.stringify(secure)}, not a secret: ` +
          (key === HOST_KEY ? "run the stack on a sandbox or pool host (sweep --sandbox, --hosts FILE --host NAME), or " : "") +
          `set it with: pulumi config set --secret ${key.replace(/^offload-lab:/, "")} < FILE`,
      );
    }
  }
  return cfg;
}
