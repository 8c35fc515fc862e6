import { sh } from "../quote";

// Host scripts share one shape: strict bash, config values bound once to quoted variables,
// documents written to a private temporary directory, one JSON document on stdout.
// Under pipefail a reader that stops early (head, grep -q) can fail a pipeline through the
// writer's SIGPIPE: tool output goes to a file, or to a reader that consumes all of it.

/**
 * Bash text as written: like String.raw, and \${ stands for a bash ${ (a template literal
 * would otherwise read it as an interpolation).
 */
export function bash(strings: TemplateStringsArray, ...values: readonly (string | number)[]): string {
  return String.raw({ raw: strings.raw.map((s) => s.replace(/\\\$\{/g, "${")) }, ...values);
}

/** Bash functions every host script may call. */
const PRELUDE = bash`set -euo pipefail
export LC_ALL=C
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
note() { printf 'offload-lab: %s\n' "$*" >&2; }
# A JSON string literal for $1; config values never carry control characters, tool output might.
json_str() {
  local s=\${1//\\/\\\\}
  s=\${s//\"/\\\"}
  s=\${s//$'\t'/\\t}
  s=\${s//$'\n'/\\n}
  s=\${s//$'\r'/\\r}
  s=\${s//[$'\001'-$'\037']/?}
  printf '"%s"' "$s"
}
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT`;

const DOCUMENT_END = "OFFLOAD_LAB_DOCUMENT_END";

export interface ScriptDocument {
  /** File name inside the script's temporary directory; `$work/<file>` in the body. */
  readonly file: string;
  readonly content: string;
}

/** NAME=value lines; every value passes through `sh()`. */
export function bindVariables(vars: Readonly<Record<string, string | number>>): string {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`not a script variable name: ${name}`);
      return `${name}=${sh(value)}`;
    })
    .join("\n");
}

function writeDocument(doc: ScriptDocument): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(doc.file)) throw new Error(`not a document file name: ${doc.file}`);
  // A quoted here-document expands nothing; only a line equal to its delimiter could end it early.
  if (doc.content.split("\n").includes(DOCUMENT_END)) throw new Error(`document ${doc.file} contains the line ${DOCUMENT_END}`);
  const body = doc.content.endsWith("\n") ? doc.content : `${doc.content}\n`;
  return `cat > "$work"/${doc.file} <<'${DOCUMENT_END}'\n${body}${DOCUMENT_END}`;
}

export function hostScript(
  vars: Readonly<Record<string, string | number>>,
  body: string,
  documents: readonly ScriptDocument[] = [],
): string {
  return [PRELUDE, bindVariables(vars), ...documents.map(writeDocument), body.trim()].join("\n") + "\n";
}
