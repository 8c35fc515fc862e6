import { randomBytes } from "node:crypto";
import type * as provider from "@pulumi/pulumi/provider";
import { failures, LOCAL, localInputs, REMOTE, remoteInputs, type LocalInputs, type RemoteInputs } from "./inputs";
import { runLocal, type Previous } from "./local";
import { canonical, containsSecret, containsUnknown, reveal, secret, type Props } from "./properties";
import { runRemote } from "./remote";
import { cancelAll, type Ran } from "./spawn";

// The `command` resource provider the lab's program needs, speaking the engine's protocol
// through @pulumi/pulumi's provider server. The official pulumi-resource-command binary cannot
// be had here (the Go module proxy refuses its module, GitHub is out of reach), so this one
// implements the two resources the lab registers with the behaviour of @pulumi/command 1.2.1:
// changed triggers replace, any other changed input updates (running `update`, else `create`),
// delete runs `delete`; outputs are the inputs plus stdout and stderr.

export const VERSION = "1.2.1";
const OUTPUTS = new Set(["stdout", "stderr"]);

type Kind = typeof LOCAL | typeof REMOTE;

function kindOf(urn: string): Kind {
  const type = urn.split("::")[2]?.split("$").pop();
  if (type === LOCAL || type === REMOTE) return type;
  throw new Error(`offload-lab's command provider has no resource type ${type}`);
}

function nameOf(urn: string): string {
  return urn.split("::").pop() ?? "command";
}

function inputsOf(props: Props): Props {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !OUTPUTS.has(k)));
}

function parse(kind: Kind, props: Props): LocalInputs | RemoteInputs {
  return (kind === LOCAL ? localInputs : remoteInputs).parse(reveal(inputsOf(props)));
}

/** Log lines go to the provider's stderr, which the engine shows with the update's output. */
function logger(urn: string): (line: string) => void {
  const name = nameOf(urn);
  return (line) => process.stderr.write(`${name}: ${line}\n`);
}

function run(kind: Kind, command: string, inputs: LocalInputs | RemoteInputs, previous: Previous, urn: string): Promise<Ran> {
  return kind === LOCAL
    ? runLocal(command, inputs as LocalInputs, previous, logger(urn))
    : runRemote(command, inputs as RemoteInputs, previous, logger(urn));
}

/**
 * The state after a run: the inputs as given (their own secrets kept), and stdout/stderr made
 * secret when any input holds a secret, as @pulumi/command's outputs depend on all its inputs.
 */
function state(inputs: Props, ran: Previous): Props {
  const hidden = containsSecret(inputs);
  const out: Props = { ...inputs };
  for (const key of ["stdout", "stderr"] as const) {
    const value = ran[key] ?? "";
    out[key] = hidden ? secret(value) : value;
  }
  return out;
}

function previousOf(props: Props): Previous {
  const p = reveal(props) as Props;
  return { stdout: typeof p.stdout === "string" ? p.stdout : undefined, stderr: typeof p.stderr === "string" ? p.stderr : undefined };
}

export const commandProvider: provider.Provider = {
  version: VERSION,

  async check(urn, _olds, news) {
    const kind = kindOf(urn);
    // Unknown values (a preview before their producer ran) are checked once they are known.
    if (containsUnknown(news)) return { inputs: news };
    const parsed = (kind === LOCAL ? localInputs : remoteInputs).safeParse(reveal(news));
    return parsed.success ? { inputs: news } : { inputs: news, failures: failures(parsed.error) };
  },

  async diff(_id, _urn, olds, news) {
    const before = inputsOf(olds as Props);
    const after = news as Props;
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
      (k) => containsUnknown(after[k]) || canonical(before[k]) !== canonical(after[k]),
    );
    return { changes: changed.length > 0, replaces: changed.filter((k) => k === "triggers") };
  },

  async create(urn, inputs) {
    const kind = kindOf(urn);
    const parsed = parse(kind, inputs);
    const id = `${nameOf(urn)}-${randomBytes(4).toString("hex")}`;
    if (parsed.create === undefined) return { id, outs: state(inputs, {}) };
    return { id, outs: state(inputs, await run(kind, parsed.create, parsed, {}, urn)) };
  },

  async read(id, _urn, props) {
    // Nothing to look up: a command's state is what it printed when it ran.
    return { id, props };
  },

  async update(_id, urn, olds, news) {
    const kind = kindOf(urn);
    const parsed = parse(kind, news);
    const previous = previousOf(olds);
    const command = parsed.update ?? parsed.create;
    if (command === undefined) return { outs: state(news, previous) };
    return { outs: state(news, await run(kind, command, parsed, previous, urn)) };
  },

  async delete(_id, urn, props) {
    const kind = kindOf(urn);
    const parsed = parse(kind, props);
    if (parsed.delete === undefined) return;
    await run(kind, parsed.delete, parsed, previousOf(props), urn);
  },

  async cancel() {
    cancelAll();
  },
};
