import { sh } from "../quote";
import { POWERSHELL_ARGV, SH_ARGV } from "./powershellLoader";
import type { Transport } from "./transport";

export interface AgentTarget {
  readonly uri: string;
  readonly domain: string;
  readonly os: "windows" | "linux";
  /** How long to wait for the agent to answer after boot, and again for the script to end. */
  readonly timeoutSeconds: number;
}

/** Keeps a bash comment one line whatever the name holds (the schema allows no such name). */
function withoutControlCharacters(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, "");
}

/**
 * What guest_stop runs in the guest, with the pid for PID: taskkill ends the PowerShell that
 * guest-exec started and its whole tree (iperf3.exe, a sender); on Linux the cell script is
 * \`exec timeout\`, which passes the TERM on to iperf3.
 */
const WINDOWS_STOP_ARGV = ["taskkill.exe", "/F", "/T", "/PID", "PID"] as const;
const LINUX_STOP_ARGV = ["/bin/kill", "-TERM", "PID"] as const;

/**
 * The QEMU guest agent through `virsh qemu-agent-command`: `guest-ping` until the agent
 * answers, `guest-exec` with the script as base64 `input-data`, `guest-exec-status` until it
 * exits, then out-data/err-data decoded onto stdout/stderr and the guest's exit code returned.
 *
 * Replies are read with jq on the host, whatever libvirt's JSON writer escapes (a json-c
 * libvirt writes '/' as '\/'). The agent leaves out `out-data`/`err-data` when they are empty
 * and `exitcode` when a signal ended the process (it sends `signal` then).
 */
export function agentTransport(t: AgentTarget): Transport {
  const [path, ...args] = t.os === "windows" ? POWERSHELL_ARGV : SH_ARGV;
  const argJson = JSON.stringify(args);
  // A stop is a second guest-exec: the agent has no command that kills a guest process.
  const [stopPath, ...stopArgs] = t.os === "windows" ? WINDOWS_STOP_ARGV : LINUX_STOP_ARGV;
  const functionDefinition = `# guest_exec: the QEMU guest agent of ${withoutControlCharacters(t.domain)} via virsh
OL_AGENT_URI=${sh(t.uri)}
OL_AGENT_DOMAIN=${sh(t.domain)}
OL_AGENT_TIMEOUT=${sh(t.timeoutSeconds)}
ol_agent() {
  virsh -q -c "$OL_AGENT_URI" qemu-agent-command "$OL_AGENT_DOMAIN" "$1"
}
# A field of the reply's "return" object, printed raw; nothing when it is absent or not JSON.
ol_agent_field() {
  printf '%s' "$1" | jq -r --arg f "$2" '.return[$f] | select(. != null) | tostring' 2>/dev/null
}
ol_agent_data() {
  ol_agent_field "$1" "$2" | base64 -d
}
guest_exec() {
  local input reply err pid status code signal deadline
  input=$(base64 -w0)
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  until err=$(ol_agent '{"execute":"guest-ping"}' 2>&1 >/dev/null); do
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest agent of $OL_AGENT_DOMAIN did not answer within $OL_AGENT_TIMEOUT s: $err" >&2
      return 124
    fi
    sleep 1
  done
  reply=$(ol_agent '{"execute":"guest-exec","arguments":{"path":${JSON.stringify(path)},"arg":${argJson},"input-data":"'"$input"'","capture-output":true}}' 2>&1) || {
    echo "guest_exec: guest-exec in $OL_AGENT_DOMAIN failed: $reply" >&2
    return 125
  }
  pid=$(ol_agent_field "$reply" pid)
  if [[ ! $pid =~ ^[0-9]+$ ]]; then
    echo "guest_exec: guest-exec in $OL_AGENT_DOMAIN gave no pid: $reply" >&2
    return 125
  fi
  # For guest_stop, should the caller's deadline end this function before the guest's script.
  if [[ -n \${OL_GUEST_PID_FILE:-} ]]; then printf '%s\\n' "$pid" >"$OL_GUEST_PID_FILE"; fi
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  while :; do
    status=$(ol_agent '{"execute":"guest-exec-status","arguments":{"pid":'"$pid"'}}' 2>&1) || {
      echo "guest_exec: guest-exec-status $pid in $OL_AGENT_DOMAIN failed: $status" >&2
      return 125
    }
    [[ $(ol_agent_field "$status" exited) == true ]] && break
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest script (pid $pid in $OL_AGENT_DOMAIN) did not end within $OL_AGENT_TIMEOUT s" >&2
      return 124
    fi
    sleep 1
  done
  ol_agent_data "$status" out-data
  ol_agent_data "$status" err-data >&2
  if [[ $(ol_agent_field "$status" out-truncated) == true || $(ol_agent_field "$status" err-truncated) == true ]]; then
    echo "guest_exec: the guest agent truncated the output of pid $pid in $OL_AGENT_DOMAIN" >&2
    return 125
  fi
  code=$(ol_agent_field "$status" exitcode)
  signal=$(ol_agent_field "$status" signal)
  if [[ -n $signal ]]; then
    echo "guest_exec: the guest script (pid $pid in $OL_AGENT_DOMAIN) was killed by signal $signal" >&2
    return 125
  fi
  if [[ ! $code =~ ^-?[0-9]+$ ]]; then
    echo "guest_exec: guest-exec-status for pid $pid in $OL_AGENT_DOMAIN has no exit code: $status" >&2
    return 125
  fi
  return $((code == 0 ? 0 : (code & 255) == 0 ? 1 : code & 255))
}
# guest_stop PIDFILE: ends the guest process guest_exec started (and what it started).
guest_stop() {
  local pid reply
  pid=$(cat "$1" 2>/dev/null) || true
  if [[ ! $pid =~ ^[0-9]+$ ]]; then
    echo "guest_stop: no guest pid recorded in $1" >&2
    return 125
  fi
  reply=$(ol_agent '{"execute":"guest-exec","arguments":{"path":${JSON.stringify(stopPath)},"arg":${JSON.stringify(stopArgs).replace('"PID"', `"'"$pid"'"`)},"capture-output":true}}' 2>&1) || {
    echo "guest_stop: guest-exec of the stop for pid $pid in $OL_AGENT_DOMAIN failed: $reply" >&2
    return 125
  }
  echo "guest_stop: asked the guest to end pid $pid in $OL_AGENT_DOMAIN" >&2
}`;
  return { description: `qemu-guest-agent of ${t.domain} via virsh -c ${t.uri}`, functionDefinition };
}
