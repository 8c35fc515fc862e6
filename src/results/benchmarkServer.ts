/** What the iperf3-server step reports on stdout. */
export interface Iperf3Server {
  readonly pid: number;
  readonly address: string;
  readonly port: number;
  /** `iperf3 --version`'s first line on the host, e.g. `iperf 3.12 (cJSON 1.7.15)`. */
  readonly version: string;
  readonly manager: "systemd" | "daemon";
}

export function parseIperf3ServerOutput(stdout: string): Iperf3Server {
  const line = stdout.trim().split("\n").pop() ?? "";
  let v: Partial<Iperf3Server>;
  try {
    v = JSON.parse(line) as Partial<Iperf3Server>;
  } catch (e) {
    throw new Error(`iperf3-server output is not JSON: ${(e as Error).message}: ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (typeof v.pid !== "number" || typeof v.port !== "number" || typeof v.address !== "string" || typeof v.version !== "string" || (v.manager !== "systemd" && v.manager !== "daemon")) {
    throw new Error(`iperf3-server output lacks pid, address, port, version or manager: ${JSON.stringify(line.slice(0, 200))}`);
  }
  return { pid: v.pid, address: v.address, port: v.port, version: v.version, manager: v.manager };
}
