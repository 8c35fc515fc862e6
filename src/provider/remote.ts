import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { quote } from "shell-quote";
import type { Connection, ProxyConnection, RemoteInputs } from "./inputs";
import type { Previous } from "./local";
import { CommandFailed, runProcess, type Ran } from "./spawn";

// command:remote:Command over the system OpenSSH client (Debian's openssh-client, already a
// dependency of the lab): no SSH implementation in the project to keep secure. As in
// @pulumi/command 1.2.1: user root and port 22 by default, the host key is not checked (the
// official provider does the same without `hostKey`, which the lab does not use), the private
// key or else the SSH agent authenticates, an optional proxy (jump) host, failed dials retried.

const DIAL_ERROR_LIMIT = 10;
const PER_DIAL_TIMEOUT = 15;
/** What OpenSSH prints when it could not reach or log in to the host, as opposed to a command failing. */
const DIAL_FAILURE = /^(ssh: |kex_exchange_identification|Connection (refused|timed out|closed|reset)|.*Permission denied \()/m;

function hopOptions(hop: ProxyConnection, keyFile: string | undefined): string[] {
  const timeout = hop.perDialTimeout ?? PER_DIAL_TIMEOUT;
  return [
    "-F", "/dev/null",
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    ...(timeout > 0 ? ["-o", `ConnectTimeout=${timeout}`] : []),
    ...(keyFile !== undefined ? ["-o", "IdentitiesOnly=yes", "-i", keyFile] : []),
    "-p", String(hop.port ?? 22),
  ];
}

function target(hop: ProxyConnection): string {
  return `${hop.user ?? "root"}@${hop.host}`;
}

/** Keys go to a private temporary folder for the length of one run, never onto a command line. */
function withKeys<T>(conn: Connection, f: (key?: string, proxyKey?: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-ssh-"));
  const write = (name: string, key: string | undefined) => {
    if (key === undefined) return undefined;
    const file = path.join(dir, name);
    fs.writeFileSync(file, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
    return file;
  };
  return f(write("key", conn.privateKey), write("proxy-key", conn.proxy?.privateKey)).finally(() =>
    fs.rmSync(dir, { recursive: true, force: true }),
  );
}

export function sshArgv(conn: Connection, command: string, keyFile?: string, proxyKeyFile?: string): string[] {
  const proxy = conn.proxy
    ? ["-o", `ProxyCommand=${quote(["ssh", ...hopOptions(conn.proxy, proxyKeyFile), "-W", "%h:%p", target(conn.proxy)])}`]
    : [];
  return ["ssh", ...hopOptions(conn, keyFile), ...proxy, target(conn), command];
}

export async function runRemote(command: string, inputs: RemoteInputs, previous: Previous, log: (line: string) => void): Promise<Ran> {
  if (inputs.addPreviousOutputInEnv !== false && (previous.stdout || previous.stderr)) {
    // The official provider asks sshd to set them and only warns when sshd (AcceptEnv) refuses.
    log("PULUMI_COMMAND_STDOUT/STDERR are not passed over SSH by this provider");
  }
  const limit = inputs.connection.dialErrorLimit ?? DIAL_ERROR_LIMIT;
  return withKeys(inputs.connection, async (key, proxyKey) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runProcess({
          argv: sshArgv(inputs.connection, command, key, proxyKey),
          env: process.env,
          stdin: inputs.stdin,
          logging: inputs.logging,
          log,
          describe: command,
        });
      } catch (e) {
        // ssh exits 255 for its own failures; a command's output would make it not a dial failure.
        const dialFailed = e instanceof CommandFailed && e.exitCode === 255 && DIAL_FAILURE.test(e.output);
        if (!dialFailed || (limit !== -1 && attempt >= limit)) throw e;
        log(`dial attempt ${attempt} failed, retrying: ${e.output.trim()}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  });
}
