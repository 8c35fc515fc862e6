import * as fs from "node:fs";
import { parse, YAMLError } from "yaml";
import { z } from "zod";
import { hostSchema } from "../config/schema";

/**
 * A KVM host a lab can run on, reached over SSH: a host of a pool file (`sweep --hosts`) or a
 * sandbox host. Its stacks get its connection as `offload-lab:host`, its name as
 * `offload-lab:hostName` and its key as the Pulumi secret `offload-lab:hostSshPrivateKey`.
 */
export interface LabHost {
  readonly name: string;
  readonly address: string;
  readonly user: string;
  readonly port: number;
  readonly jump?: { readonly address: string; readonly user: string; readonly port: number };
  /** The SSH private key (OpenSSH format), read when a stack needs it. */
  privateKey(): string;
  /** Where the key comes from, for messages: never the key itself. */
  readonly keySource: string;
  /**
   * A key pair for the guests of its stacks that reach their guest over SSH (a sandbox makes
   * one): src/engine/target.ts lends it to such a stack.
   */
  readonly guestKey?: GuestKeyPair;
}

/** An SSH key pair a host lends to its stacks' Linux guests. */
export interface GuestKeyPair {
  /** One public key line (`ssh-ed25519 AAAA… comment`), as guest.ssh.authorizedKey takes it. */
  readonly publicKey: string;
  /** The private key (OpenSSH format), read when a stack needs it. */
  privateKey(): string;
}

/** The user's mistake in a pool file or a host choice: printed as it is, exit 2. */
export class PoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PoolError";
  }
}

/**
 * Host names go into stack names (`<stack>.<host>`, after the last dot) and file names: letters,
 * digits, '_' and '-', no dot.
 */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

const keySchema = z.union(
  [
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an environment variable name" }) }),
    z.strictObject({ file: z.string().regex(/^\/[^\u0000-\u001f\u007f]*$/, { error: "must be an absolute path" }) }),
  ],
  { error: "must be {env: VARIABLE} or {file: /absolute/path}: where the SSH private key is" },
);

const entrySchema = z.strictObject({
  name: z.string({ error: "must be a host name for stacks: letters, digits, '_', '-' (no dot), at most 40" }).regex(HOST_NAME, {
    error: "must be a host name for stacks: letters, digits, '_', '-' (no dot), at most 40",
  }),
  address: z.unknown(),
  user: z.unknown().optional(),
  port: z.unknown().optional(),
  jump: z.unknown().optional(),
  key: keySchema,
});

const poolSchema = z.strictObject({
  hosts: z.array(entrySchema, { error: "must be a list of hosts" }).min(1, { error: "must list at least one host" }),
});

function given(v: unknown): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}

function at(doc: unknown, p: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const k of p) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function keyPath(p: readonly PropertyKey[]): string {
  return p.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("");
}

function keyReader(file: string, index: number, name: string, key: z.infer<typeof keySchema>): Pick<LabHost, "privateKey" | "keySource"> {
  if ("env" in key) {
    return {
      keySource: `environment variable ${key.env}`,
      privateKey: () => {
        const v = process.env[key.env];
        if (v === undefined || v.trim() === "") throw new PoolError(`${file}: hosts[${index}] (${name}).key: environment variable ${key.env} is not set`);
        return v;
      },
    };
  }
  return {
    keySource: `file ${key.file}`,
    privateKey: () => {
      try {
        return fs.readFileSync(key.file, "utf8");
      } catch (e) {
        throw new PoolError(`${file}: hosts[${index}] (${name}).key: cannot read ${key.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    },
  };
}

/**
 * Reads a pool file: every problem at once, each naming the entry, the field, the value given
 * and what is allowed. The connection fields follow the stack settings' own rules for
 * `offload-lab:host` (src/config/schema.ts), so a host the pool accepts is one a stack accepts.
 */
export function parsePool(text: string, file: string): LabHost[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    if (e instanceof YAMLError) throw new PoolError(`${file}: not valid YAML: ${e.message.split("\n")[0]}`);
    throw e;
  }
  const parsed = poolSchema.safeParse(doc ?? {});
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const p = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
      const what = issue.code === "unrecognized_keys" ? `is not a field of a pool (name, address, user, port, jump, key)` : issue.message;
      problems.push(`${keyPath(p)}: ${what} (given: ${given(at(doc, p))})`);
    }
    throw new PoolError(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join("\n  - ")}`}`);
  }
  const hosts: LabHost[] = [];
  parsed.data.hosts.forEach((entry, i) => {
    const connection = { connection: "ssh", address: entry.address, user: entry.user, port: entry.port, jump: entry.jump };
    for (const k of Object.keys(connection) as (keyof typeof connection)[]) if (connection[k] === undefined) delete connection[k];
    const checked = hostSchema.safeParse(connection);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        const p = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
        problems.push(`hosts[${i}].${keyPath(p)}: ${issue.message} (given: ${given(at(connection, p))})`);
      }
      return;
    }
    const c = checked.data;
    if (c.connection !== "ssh") return;
    if (hosts.some((h) => h.name === entry.name)) problems.push(`hosts[${i}].name: names another host already (given: ${given(entry.name)})`);
    hosts.push({
      name: entry.name,
      address: c.address,
      user: c.user,
      port: c.port,
      ...(c.jump !== undefined ? { jump: c.jump } : {}),
      ...keyReader(file, i, entry.name, entry.key),
    });
  });
  if (problems.length > 0) {
    throw new PoolError(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join("\n  - ")}`}`);
  }
  return hosts;
}

export function readPool(file: string): LabHost[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new PoolError(`--hosts ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  return parsePool(text, file);
}

/** The hosts named by --host (all of them when none is named). */
export function chooseHosts(pool: readonly LabHost[], names: readonly string[], file: string): LabHost[] {
  if (names.length === 0) return [...pool];
  return names.map((n) => {
    const h = pool.find((x) => x.name === n);
    if (h === undefined) throw new PoolError(`--host ${n}: not in ${file}; its hosts: ${pool.map((x) => x.name).join(", ")}`);
    return h;
  });
}

/** The stack a variant's lab has on one host: the variant's stack with the host in its name. */
export function hostStackName(stack: string, host: LabHost | string | null): string {
  if (host === null) return stack;
  return `${stack}.${typeof host === "string" ? host : host.name}`;
}

/** The settings a host puts into the working copy of its stacks (plain ones; the key goes in as a secret). */
export function hostSettings(host: LabHost): Record<string, unknown> {
  return {
    "offload-lab:host": {
      connection: "ssh",
      address: host.address,
      user: host.user,
      port: host.port,
      ...(host.jump !== undefined ? { jump: { ...host.jump } } : {}),
    },
    "offload-lab:hostName": host.name,
  };
}
