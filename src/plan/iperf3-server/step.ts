import type { LabConfig } from "../../config/model";
import { hostScript } from "../script/hostScript";
import { scriptFile } from "../script/files";
import type { Step } from "../step";
import { parseIperf3Server, type Iperf3Server } from "./output";

/** Seconds the server gets to listen after start; a server that does not is reported dead. */
export const SERVER_START_SECONDS = 10;

const LIB = scriptFile(__dirname, "server-lib.sh");
const CREATE = scriptFile(__dirname, "create.sh");
const DELETE = scriptFile(__dirname, "delete.sh");

/** Where the daemon's pidfile and log live on the host, one pair per address and port. */
export function iperf3ServerFiles(cfg: LabConfig): { unit: string; pidfile: string; logfile: string } {
  const tag = `${cfg.network.hostAddress}-${cfg.iperf3.port}`;
  return {
    unit: `offload-lab-iperf3-${cfg.iperf3.port}`,
    pidfile: `/run/offload-lab/iperf3-${tag}.pid`,
    logfile: `/var/log/offload-lab/iperf3-${tag}.log`,
  };
}

/**
 * The iperf3 server on the KVM host, started so it outlives the session that started it:
 * a transient systemd unit where systemd runs, otherwise iperf3's own daemon mode.
 * It binds to the bridge's address, which exists once the network is up.
 */
export function iperf3ServerStep(cfg: LabConfig, after: { network: Step; hostFirewall: Step }): Step<Iperf3Server> {
  const f = iperf3ServerFiles(cfg);
  const values = {
    IPERF3: cfg.iperf3.binary,
    ADDR: cfg.network.hostAddress,
    PORT: cfg.iperf3.port,
    UNIT: f.unit,
    PIDFILE: f.pidfile,
    LOGFILE: f.logfile,
  };
  return {
    name: "iperf3-server",
    component: "Iperf3Server",
    runsOn: "host",
    create: hostScript({ step: "iperf3-server", file: CREATE, libraries: [LIB], values: { ...values, START_SECONDS: SERVER_START_SECONDS } }),
    delete: hostScript({ step: "iperf3-server", file: DELETE, libraries: [LIB], values }),
    // host-firewall: the guest can reach the port once the server listens on it.
    dependsOn: [after.network, after.hostFirewall],
    triggers: [cfg.network.hostAddress, String(cfg.iperf3.port), cfg.iperf3.binary],
    effect: {
      changes: `starts an iperf3 server on ${cfg.network.hostAddress}:${cfg.iperf3.port}`,
      undo: "stops the iperf3 server",
    },
    parse: parseIperf3Server,
  };
}
