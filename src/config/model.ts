import type { LabSettings } from "./schema";
import type { SecretRef } from "./secret";
import type { ChecksumMode, EthtoolFeature, SenderKind, VirtioNetFeature } from "./features";

export type HostConfig = LabSettings["host"];

export interface NetworkConfig {
  readonly mode: "adopt" | "dedicated";
  readonly name: string;
  readonly bridge: string;
  readonly cidr: string;
  readonly prefix: number;
  readonly netmask: string;
  /** The bridge's own address: the iperf3 server listens here. */
  readonly hostAddress: string;
  readonly dhcpStart: string;
  readonly dhcpEnd: string;
  /** Fixed by a DHCP host entry in dedicated mode; only known in adopt mode when configured. */
  readonly guestAddress?: string;
  readonly mtu: number;
}

export interface GuestConfig {
  readonly os: "windows" | "linux";
  readonly name: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly baseImage: string;
  readonly baseImageFormat: "qcow2" | "raw";
  readonly overlayPath: string;
  readonly virtioWinIso?: string;
  /** Windows: the lab installs NetKVM from the ISO (netkvm-install) before the offloads. */
  readonly installNetkvm: boolean;
  readonly mac: string;
  /**
   * The machine type as configured; undefined: the guest-domain step picks, on the host, the
   * newest q35 type that keeps USO (its output says which).
   */
  readonly machineType?: string;
  readonly firmware: "bios" | "uefi";
  readonly tpm: boolean;
  readonly tapName: string;
  readonly queues: number;
  readonly virtioNetFeatures: Readonly<Partial<Record<VirtioNetFeature, "on" | "off">>>;
  readonly kernel?: string;
  readonly initrd?: string;
  readonly cmdline?: string;
  readonly access: "agent" | "ssh";
  readonly ssh: {
    readonly user: string;
    readonly port: number;
    readonly address?: string;
    /** root's public key, which the domain hands a Linux guest as a systemd credential at boot. */
    readonly authorizedKey?: string;
  };
  /** When unset, guest scripts find the adapter by its MAC address. */
  readonly adapterName?: string;
  readonly linuxInterface?: string;
  readonly iperf3Path: string;
  readonly agentTimeoutSeconds: number;
}

export interface OffloadPair {
  readonly ipv4?: boolean;
  readonly ipv6?: boolean;
}

/** What the guest's NIC should do. Unset fields are left as the driver has them. */
export interface OffloadProfile {
  readonly uso: OffloadPair;
  readonly lso: OffloadPair;
  readonly rsc: OffloadPair;
  readonly checksum: Readonly<Partial<Record<"ipv4" | "tcpv4" | "tcpv6" | "udpv4" | "udpv6", ChecksumMode>>>;
  readonly mtu: number;
  readonly ethtool: Readonly<Partial<Record<EthtoolFeature, "on" | "off">>>;
}

export interface HostOffloads {
  readonly tap: Readonly<Partial<Record<EthtoolFeature, "on" | "off">>>;
  readonly bridge: Readonly<Partial<Record<EthtoolFeature, "on" | "off">>>;
}

export interface MatrixConfig {
  readonly payloads: readonly number[];
  readonly repetitions: number;
  readonly durationSeconds: number;
  readonly bitrates: readonly string[];
  readonly senders: readonly SenderKind[];
  readonly order: "listed" | "shuffled";
  readonly shuffleSeed: number;
  /** In-lab arms: every cell in both USO arms, off then on, switched by the benchmark. */
  readonly usoArms: boolean;
}

/** The whole lab of one stack, validated, with every default and derived value filled in. */
export interface LabConfig {
  readonly stack: string;
  /** e.g. `mtu9000-uso-on`: the factors a cell id carries. */
  readonly variant: string;
  readonly host: HostConfig;
  /** The host's name in a pool (`offload-lab:hostName`); unset: the host's own hostname. */
  readonly hostName?: string;
  readonly libvirt: LabSettings["libvirt"];
  readonly network: NetworkConfig;
  readonly guest: GuestConfig;
  readonly offloads: OffloadProfile;
  readonly hostOffloads: HostOffloads;
  readonly iperf3: LabSettings["iperf3"];
  readonly matrix: MatrixConfig;
  readonly capture: LabSettings["capture"];
  readonly benchmark: LabSettings["benchmark"];
  readonly secrets: {
    readonly hostSshPrivateKey?: SecretRef;
    readonly guestSshPrivateKey?: SecretRef;
  };
}
