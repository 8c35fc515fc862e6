import { CommanderError } from "commander";
import { ConfigError, StackFileError } from "../config/errors";
import { printable } from "../config/printable";
import { PassphraseError } from "../engine/passphrase";
import { PoolError } from "../hosts/pool";
import { SandboxBusyError } from "../sandbox/ownership";

/**
 * A mistake in what the user gave (a path, a flag, a file's content): printed as its message,
 * one or two lines naming the thing and what to do, never with a stack trace. Exit code 2.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Exit code of a fault in offload-lab itself, not in its input (sysexits EX_SOFTWARE). */
export const FAULT_EXIT = 70;

/** File-system errors about a path the user named: the path and what is wrong with it is enough. */
const PATH_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or folder",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a folder, a file was expected",
  ENOTDIR: "a part of the path is not a folder",
  EEXIST: "already exists",
  ENOSPC: "no space left on the device",
  EROFS: "read-only file system",
};

export interface Failure {
  readonly code: number;
  /** What to print on stderr; empty when the library already printed it (commander). */
  readonly lines: string[];
}

/** Mistakes in what the user gave or in the state they left: a message, exit 2, no trace. */
const USER_ERRORS = [UsageError, ConfigError, StackFileError, PassphraseError, PoolError, SandboxBusyError];

/**
 * The one place an error becomes an exit code and a message. Messages quote what the user
 * gave (a path, a value, a file's bytes): every line is made printable here, whatever built it.
 */
export function describeFailure(e: unknown, debug: boolean): Failure {
  const failure = failureOf(e, debug);
  return { code: failure.code, lines: failure.lines.map(printable) };
}

function failureOf(e: unknown, debug: boolean): Failure {
  if (e instanceof CommanderError) return { code: e.exitCode === 0 ? 0 : 2, lines: [] };
  if (USER_ERRORS.some((kind) => e instanceof kind)) return { code: 2, lines: [(e as Error).message] };
  const errno = e as NodeJS.ErrnoException;
  if (errno instanceof Error && typeof errno.code === "string" && typeof errno.path === "string" && errno.code in PATH_ERRORS) {
    return { code: 2, lines: [`${errno.path}: ${PATH_ERRORS[errno.code]}`] };
  }
  const message = e instanceof Error ? e.message : String(e);
  const detail = debug && e instanceof Error && e.stack !== undefined
    ? e.stack
    : "This is a fault in offload-lab, not in your input: run the same command with --debug for the stack trace, and report it.";
  return { code: FAULT_EXIT, lines: [`offload-lab: unexpected error: ${message}`, detail] };
}
