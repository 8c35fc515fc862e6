import { sh } from "../quote";
import type { StepDocument } from "../step";
import { body, scriptFile, type ScriptFile } from "./files";
import { checkedName, type ScriptValue } from "./values";

const HOST_LIB = scriptFile(__dirname, "host-lib.sh");
const DOCUMENT_END = "OFFLOAD_LAB_DOCUMENT_END";

export interface HostScriptSpec {
  /** The step's name, for the header line. */
  readonly step: string;
  /** The static body, a `.sh` file of the step's folder. */
  readonly file: ScriptFile;
  /** Shared functions of the step's own folder, placed after the common ones. */
  readonly libraries?: readonly ScriptFile[];
  /** NAME → value, bound before the body as quoted assignments (lists as bash arrays). */
  readonly values: Readonly<Record<string, ScriptValue>>;
  /** Files the body finds under `$WORK` (libvirt XML built by xmlbuilder2). */
  readonly documents?: readonly StepDocument[];
}

/** `NAME=value` lines; every value passes through `sh()`, so nothing in it is ever code. */
export function bashAssignments(values: Readonly<Record<string, ScriptValue>>): string {
  return Object.entries(values)
    .map(([name, value]) =>
      typeof value === "string" || typeof value === "number"
        ? `${checkedName(name)}=${sh(value)}`
        : `${checkedName(name)}=(${value.map(sh).join(" ")})`,
    )
    .join("\n");
}

function writeDocument(doc: StepDocument): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(doc.file)) throw new Error(`not a document file name: ${doc.file}`);
  // A quoted here-document expands nothing; only a line equal to its delimiter could end it early.
  if (doc.content.split("\n").includes(DOCUMENT_END)) throw new Error(`document ${doc.file} contains the line ${DOCUMENT_END}`);
  const text = doc.content.endsWith("\n") ? doc.content : `${doc.content}\n`;
  return `cat >"$WORK/${doc.file}" <<'${DOCUMENT_END}'\n${text}${DOCUMENT_END}`;
}

/**
 * A host step's bash: strict mode, the stack's values as quoted assignments, the shared host
 * functions (src/plan/script/host-lib.sh) and the step's own, the documents, then the step's
 * static body.
 */
export function hostScript(spec: HostScriptSpec): string {
  const values = bashAssignments(spec.values);
  return [
    "#!/usr/bin/env bash",
    `# offload-lab ${spec.step}: ${spec.file.source}, after the stack's values`,
    "set -euo pipefail",
    ...(values === "" ? [] : [values]),
    body(HOST_LIB),
    ...(spec.libraries ?? []).map(body),
    ...(spec.documents ?? []).map(writeDocument),
    body(spec.file),
  ].join("\n") + "\n";
}
