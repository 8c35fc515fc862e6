import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Where the passphrase of the stacks' secrets comes from, the same way for every entry (the main
 * job, sweep, up/preview/destroy, the bench, the tests), in Pulumi's own order:
 * PULUMI_CONFIG_PASSPHRASE, else PULUMI_CONFIG_PASSPHRASE_FILE, else this checkout's
 * .offload-lab/passphrase (made by the main job; gitignored).
 */
export type PassphraseSource =
  | { readonly kind: "variable" }
  | { readonly kind: "variable-file"; readonly file: string }
  | { readonly kind: "checkout-file"; readonly file: string };

export const CHECKOUT_PASSPHRASE = path.join(".offload-lab", "passphrase");

export function checkoutPassphraseFile(projectDir: string): string {
  return path.resolve(projectDir, CHECKOUT_PASSPHRASE);
}

export function passphraseSource(projectDir: string, env: NodeJS.ProcessEnv = process.env): PassphraseSource | null {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return { kind: "variable" };
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE !== undefined) return { kind: "variable-file", file: env.PULUMI_CONFIG_PASSPHRASE_FILE };
  const file = checkoutPassphraseFile(projectDir);
  return fs.existsSync(file) ? { kind: "checkout-file", file } : null;
}

/** What the Pulumi CLI needs in its environment for that source (the variables pass through as they are). */
export function passphraseEnvironment(source: PassphraseSource): Record<string, string> {
  return source.kind === "checkout-file" ? { PULUMI_CONFIG_PASSPHRASE_FILE: source.file } : {};
}

/**
 * For the entries that run unattended (the main job, the bench, the tests): when no passphrase is
 * given at all, make this checkout's own, random, readable by its owner only. scripts/main.sh
 * makes the same file the same way.
 */
export function ensureCheckoutPassphrase(projectDir: string, env: NodeJS.ProcessEnv = process.env): PassphraseSource {
  const found = passphraseSource(projectDir, env);
  if (found !== null) return found;
  const file = checkoutPassphraseFile(projectDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, randomBytes(32).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  return { kind: "checkout-file", file };
}

function describeSource(source: PassphraseSource): string {
  switch (source.kind) {
    case "variable":
      return "PULUMI_CONFIG_PASSPHRASE";
    case "variable-file":
      return `PULUMI_CONFIG_PASSPHRASE_FILE (${source.file})`;
    case "checkout-file":
      return source.file;
  }
}

/** A passphrase missing or not the one a stack was made with: the user's to fix, exit 2, never a trace. */
export class PassphraseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PassphraseError";
  }
}

export function missingPassphrase(projectDir: string, backend: string): PassphraseError {
  return new PassphraseError(
    `no passphrase for the stacks' secrets in backend ${backend}: ` +
      `set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, or put one in ${checkoutPassphraseFile(projectDir)} ` +
      "(bash scripts/main.sh makes one)",
  );
}

/** What the Pulumi CLI says when the passphrase does not open a stack's secrets, or there is none. */
const PASSPHRASE_FAILURE = /incorrect passphrase|passphrase must be set/;

export function isPassphraseFailure(e: unknown): boolean {
  return PASSPHRASE_FAILURE.test(e instanceof Error ? e.message : String(e));
}

export function wrongPassphrase(projectDir: string, source: PassphraseSource, backend: string, stack: string): PassphraseError {
  return new PassphraseError(
    `the passphrase from ${describeSource(source)} does not open the secrets of stack ${stack} in backend ${backend}\n` +
      `give the one it was made with (PULUMI_CONFIG_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE_FILE or ${checkoutPassphraseFile(projectDir)}), ` +
      `or remove the stack from that backend: pulumi stack rm --force ${stack}`,
  );
}
