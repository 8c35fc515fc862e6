import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { validateLab, type RawSettings } from "../../config/validate";
import { linuxRequest, netkvmRequest } from "./request";

// What a profile asks of each driver. The guest-offloads scripts set these values and
// compare what they read back with them.

const WINDOWS = { os: "windows", name: "w", baseImage: "/w.qcow2", virtioWinIso: "/v.iso" };
const LINUX = { os: "linux", name: "l", baseImage: "/l.qcow2" };
const win = (guestOffloads: RawSettings) => validateLab("t", { guest: WINDOWS, network: { mtu: 9000 }, guestOffloads });
const lin = (guestOffloads: RawSettings) => validateLab("t", { guest: LINUX, network: { mtu: 9000 }, guestOffloads });

function configErrorKeys(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.key}: ${p.allowed}`);
    throw e;
  }
  return [];
}

describe("NetKVM request", () => {
  it("maps every profile field to its keyword, checksums first, and the MTU to *JumboPacket", () => {
    const req = netkvmRequest(win({
      uso: { ipv4: true, ipv6: false },
      lso: { ipv4: false },
      rsc: { ipv6: true },
      checksum: { ipv4: "off", tcpv4: "tx", tcpv6: "rx", udpv4: "rxtx", udpv6: "rxtx" },
    }).offloads);
    expect(req.settings.map((s) => `${s.keyword}=${s.value}`)).toEqual([
      "*IPChecksumOffloadIPv4=0", "*TCPChecksumOffloadIPv4=1", "*TCPChecksumOffloadIPv6=2",
      "*UDPChecksumOffloadIPv4=3", "*UDPChecksumOffloadIPv6=3",
      "*LsoV2IPv4=0", "*UsoIPv4=1", "*UsoIPv6=0", "*RscIPv6=1",
    ]);
    expect([req.mtu, req.jumboPacket]).toEqual([9000, 9014]);
  });

  it("leaves unset fields alone", () => {
    expect(netkvmRequest(win({}).offloads).settings).toEqual([]);
  });
});

describe("Linux request", () => {
  it("maps USO, LSO, RSC, checksums and extras to virtio_net's ethtool features", () => {
    const req = linuxRequest(lin({
      uso: { ipv4: true, ipv6: true },
      lso: { ipv4: true, ipv6: false },
      rsc: { ipv4: false },
      checksum: { udpv4: "tx", tcpv4: "tx" },
      ethtool: { "rx-udp-gro-forwarding": "on" },
    }));
    expect(req.features.map(([f, v]) => `${f}=${v}`)).toEqual([
      "tx-checksum-ip-generic=on", "rx-checksum=off", "tx-tcp-segmentation=on", "tx-tcp6-segmentation=off",
      "tx-udp-segmentation=on", "rx-gro-hw=off", "rx-udp-gro-forwarding=on",
    ]);
    expect(req.mtu).toBe(9000);
  });

  it("refuses a profile that asks two things of one Linux feature, naming the keys", () => {
    expect(configErrorKeys(() => linuxRequest(lin({ uso: { ipv4: true, ipv6: false } })))).toEqual([
      "offload-lab:guestOffloads.uso.ipv6: must agree with guestOffloads.uso.ipv4 (on): a Linux guest has the single ethtool feature tx-udp-segmentation for both",
    ]);
    expect(configErrorKeys(() => linuxRequest(lin({ checksum: { tcpv4: "rxtx", udpv6: "tx" } })))).toEqual([
      "offload-lab:guestOffloads.checksum.udpv6: must agree with guestOffloads.checksum.tcpv4 (on): a Linux guest has the single ethtool feature rx-checksum for both",
    ]);
    expect(configErrorKeys(() => linuxRequest(lin({ uso: { ipv4: true }, ethtool: { "tx-udp-segmentation": "off" } })))).toHaveLength(1);
    expect(configErrorKeys(() => linuxRequest(lin({ checksum: { ipv4: "rxtx" } })))[0]).toMatch(/^offload-lab:guestOffloads.checksum.ipv4: is only for a Windows guest/);
  });
});
