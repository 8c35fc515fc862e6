import { execFileSync } from "node:child_process";
import { run } from "../../../src/sandbox/netns";

const virsh = (uri: string, args: readonly string[]) => run("virsh", ["-c", uri, ...args]);

// qemu-guest-agent through `virsh qemu-agent-command`, keeping every raw reply as virsh
// printed it: the test records them as fixtures for the agent transport's parser.

export interface ExecResult {
  exitcode: number;
  stdout: string;
  stderr: string;
  /** Raw replies in order: guest-exec, then each guest-exec-status poll. */
  replies: string[];
}

export function agentCommand(uri: string, domain: string, command: object): string {
  return virsh(uri, ["qemu-agent-command", domain, JSON.stringify(command)]);
}

/** Polls guest-ping until the agent answers; returns the reply. */
export function waitForAgent(uri: string, domain: string, timeoutMs: number): string {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      return agentCommand(uri, domain, { execute: "guest-ping" });
    } catch (e) {
      last = (e as { stderr?: string }).stderr ?? String(e);
    }
    if (Date.now() > deadline) throw new Error(`guest agent silent after ${timeoutMs} ms: ${last}`);
    execFileSync("sleep", ["1"]);
  }
}

export function guestExec(uri: string, domain: string, file: string, args: readonly string[]): ExecResult {
  const started = agentCommand(uri, domain, {
    execute: "guest-exec",
    arguments: { path: file, arg: args, "capture-output": true },
  });
  const pid: number = JSON.parse(started).return.pid;
  const replies = [started];
  for (;;) {
    const reply = agentCommand(uri, domain, { execute: "guest-exec-status", arguments: { pid } });
    replies.push(reply);
    const status = JSON.parse(reply).return;
    if (status.exited) {
      return {
        exitcode: status.exitcode,
        stdout: Buffer.from(status["out-data"] ?? "", "base64").toString("utf8"),
        stderr: Buffer.from(status["err-data"] ?? "", "base64").toString("utf8"),
        replies,
      };
    }
    execFileSync("sleep", ["0.2"]);
  }
}
