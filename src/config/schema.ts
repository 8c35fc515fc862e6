import { z } from "zod";
import ipaddr from "ipaddr.js";
import {
  CHECKSUM_MODES,
  ETHTOOL_FEATURES,
  SENDERS,
  UDP_PAYLOAD_MAX,
  UDP_PAYLOAD_MIN,
  VIRTIO_NET_FEATURES,
} from "./features";
import { SecretValue } from "./secret";
import { isSshPublicKeyLine, SSH_PUBLIC_KEY_ALLOWED } from "./sshPublicKey";

// Every message here says what is allowed; the formatter adds the key and the value given.

const wholeNumber = (min: number, max: number) => {
  const allowed = `must be a whole number from ${min} to ${max}`;
  return z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });
};

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of: ${values.join(", ")}` });

const bool = z.boolean({ error: "must be true or false" });

const matching = (pattern: RegExp, allowed: string) =>
  z.string({ error: allowed }).regex(pattern, { error: allowed });

/** libvirt object names end up in file names, virsh arguments and XML: keep them plain. */
const objectName = matching(
  /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
  "must be 1-64 characters: letters, digits, '_', '.', '-', starting with a letter or digit",
);

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', no whitespace. */
const interfaceName = matching(
  /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/,
  "must be a Linux interface name: 1-15 characters of letters, digits, '_', '.', '-'",
);

const tapName = interfaceName.refine((v) => !/^(vnet|vif|macvtap|macvlan)/.test(v), {
  error: "must not start with vnet, vif, macvtap or macvlan (libvirt reserves those prefixes)",
});

const noControlChars = /^[^\u0000-\u001f\u007f]+$/;
const absolutePath = matching(
  /^\/[^\u0000-\u001f\u007f]*$/,
  "must be a non-empty absolute path on the KVM host, without control characters",
);

const hostName = z
  .string({ error: "must be a host name or an IP address" })
  .refine((v) => ipaddr.isValid(v) || /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(v), {
    error: "must be a host name (letters, digits, '.', '-') or an IP address",
  });

const ipv4 = z
  .string({ error: "must be an IPv4 address such as 192.168.122.10" })
  .refine((v) => ipaddr.IPv4.isValidFourPartDecimal(v), { error: "must be an IPv4 address such as 192.168.122.10" });

const cidr = z
  .string({ error: "must be an IPv4 network in CIDR form such as 192.168.122.0/24" })
  .refine(
    (v) => {
      try {
        const [, bits] = ipaddr.IPv4.parseCIDR(v);
        return v === `${ipaddr.IPv4.networkAddressFromCIDR(v).toString()}/${bits}` && bits >= 8 && bits <= 30;
      } catch {
        return false;
      }
    },
    { error: "must be an IPv4 network address in CIDR form with a prefix from /8 to /30, such as 192.168.122.0/24" },
  );

const mac = matching(
  /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/,
  "must be a unicast MAC address in lower case, such as 52:54:00:12:34:56",
);

const userName = matching(/^[a-z_][a-z0-9_.-]{0,31}$/, "must be a user name: lower-case letters, digits, '_', '.', '-'");
const port = wholeNumber(1, 65535);
const mtu = wholeNumber(68, 65535);

const secret = z.custom<SecretValue>((v) => v instanceof SecretValue, {
  error: "must be a Pulumi secret (pulumi config set --secret KEY VALUE); plain text is refused",
});

const onOff = z.enum(["on", "off"], { error: "must be on or off" });
const featureMap = z.partialRecord(
  z.enum(ETHTOOL_FEATURES),
  onOff,
);

const jump = z.strictObject({
  address: hostName,
  user: userName.default("root"),
  port: port.default(22),
});

/**
 * What the lab may do to the KVM host's firewall: `open` the iperf3 server's port for the lab's
 * bridge for the lab's lifetime (firewalld runtime rules, src/plan/host-firewall), or `leave` it
 * as it is (host-readiness then warns when it would block the guests).
 */
const firewall = oneOf(["open", "leave"] as const).default("open");

export const hostSchema = z.discriminatedUnion(
  "connection",
  [
    z.strictObject({ connection: z.literal("local"), firewall }),
    z.strictObject({
      connection: z.literal("ssh"),
      address: hostName,
      user: userName.default("root"),
      port: port.default(22),
      jump: jump.optional(),
      firewall,
    }),
  ],
  { error: "connection must be one of: local, ssh" },
);

export const libvirtSchema = z.strictObject({
  uri: matching(
    /^(qemu|qemu\+ssh|qemu\+unix|qemu\+tcp|qemu\+tls):\/\/[A-Za-z0-9@._:-]*\/(system|session)(\?[A-Za-z0-9=&._/-]*)?$/,
    "must be a libvirt QEMU URI such as qemu:///system",
  ).default("qemu:///system"),
  domainType: oneOf(["kvm", "qemu"] as const).default("kvm"),
});

export const networkSchema = z.strictObject({
  mode: oneOf(["adopt", "dedicated"] as const).default("adopt"),
  name: objectName.optional(),
  bridge: interfaceName.optional(),
  cidr: cidr.default("192.168.122.0/24"),
  mtu: mtu.default(1500),
  guestAddress: ipv4.optional(),
});

const checksum = oneOf(CHECKSUM_MODES);
const pair = z.strictObject({ ipv4: bool.optional(), ipv6: bool.optional() });

export const guestOffloadsSchema = z.strictObject({
  uso: pair.optional(),
  lso: pair.optional(),
  rsc: pair.optional(),
  checksum: z
    .strictObject({
      ipv4: checksum.optional(),
      tcpv4: checksum.optional(),
      tcpv6: checksum.optional(),
      udpv4: checksum.optional(),
      udpv6: checksum.optional(),
    })
    .optional(),
  mtu: mtu.optional(),
  /** Extra ethtool features for a Linux guest, beyond what the profile fields map to. */
  ethtool: featureMap.optional(),
});

export const guestSchema = z.strictObject({
  os: oneOf(["windows", "linux"] as const),
  name: objectName,
  vcpus: wholeNumber(1, 64).default(2),
  memoryMiB: wholeNumber(256, 1048576).default(4096),
  baseImage: absolutePath,
  baseImageFormat: oneOf(["qcow2", "raw"] as const).default("qcow2"),
  overlayDir: absolutePath.default("/var/lib/libvirt/images"),
  virtioWinIso: absolutePath.optional(),
  /** Windows only: install NetKVM from guest.virtioWinIso before the offloads (netkvm-install). */
  installNetkvm: bool.default(false),
  mac: mac.optional(),
  machineType: matching(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be a QEMU machine type such as pc-q35-10.0, pc-q35-rhel10.0.0 or q35").optional(),
  firmware: oneOf(["bios", "uefi"] as const).default("bios"),
  tpm: bool.default(false),
  tapName: tapName.default("tap0"),
  queues: wholeNumber(1, 16).default(1),
  virtioNetFeatures: z
    .partialRecord(
      z.enum(VIRTIO_NET_FEATURES),
      onOff,
    )
    .optional(),
  kernel: absolutePath.optional(),
  initrd: absolutePath.optional(),
  cmdline: matching(noControlChars, "must be a kernel command line without control characters").optional(),
  access: oneOf(["agent", "ssh"] as const).default("agent"),
  ssh: z
    .strictObject({
      user: userName.default("root"),
      port: port.default(22),
      address: ipv4.optional(),
      /**
       * root's key in a Linux guest, given per lab: the domain carries it as the systemd
       * credential ssh.authorized_keys.root (src/plan/guest-domain/domainXml.ts).
       */
      authorizedKey: z.string({ error: SSH_PUBLIC_KEY_ALLOWED }).refine(isSshPublicKeyLine, { error: SSH_PUBLIC_KEY_ALLOWED }).optional(),
    })
    .optional(),
  adapterName: matching(
    /^[A-Za-z0-9][A-Za-z0-9 _().#-]{0,63}$/,
    "must be a network adapter name: letters, digits, spaces and _ ( ) . # -",
  ).optional(),
  linuxInterface: interfaceName.optional(),
  iperf3Path: matching(
    /^[^\u0000-\u001f\u007f"'`$]+$/,
    "must be a path to iperf3 in the guest without control characters, quotes, '`' or '$'",
  ).optional(),
  agentTimeoutSeconds: wholeNumber(5, 3600).default(300),
});

export const iperf3Schema = z.strictObject({
  port: port.default(12345),
  binary: matching(/^[A-Za-z0-9_./-]+$/, "must be a command name or path of letters, digits, '_', '.', '/', '-'").default("iperf3"),
});

const bitrate = matching(/^(0|[1-9][0-9]*(\.[0-9]+)?[KMG]?)$/, "must be an iperf3 bitrate such as 1G, 500M or 0 (unlimited)");

export const matrixSchema = z.strictObject({
  payloads: z
    .array(wholeNumber(UDP_PAYLOAD_MIN, UDP_PAYLOAD_MAX), { error: "must be a list of UDP payload sizes in bytes" })
    .min(1, { error: "must list at least one payload size" })
    .optional(),
  repetitions: wholeNumber(1, 100).default(3),
  durationSeconds: wholeNumber(1, 3600).default(10),
  bitrates: z
    .array(bitrate)
    .min(1, { error: "must list at least one bitrate" })
    .default(["1G"]),
  senders: z
    .array(oneOf(SENDERS), { error: `must be a list of senders: ${SENDERS.join(", ")}` })
    .min(1, { error: "must list at least one sender" })
    .refine((v) => new Set(v).size === v.length, { error: "must not list a sender twice" })
    .default(["plain"]),
  order: oneOf(["listed", "shuffled"] as const).default("listed"),
  shuffleSeed: wholeNumber(0, 2 ** 31 - 1).default(1),
  /**
   * In-lab arms: every cell runs in both USO arms in one booted lab, off then on (a pair per
   * repetition), the guest's USO switched and read back by the benchmark before each cell.
   */
  usoArms: bool.default(false),
});

export const captureSchema = z.strictObject({
  // The tap's counters are read for every cell whatever this says: they cost nothing. This is
  // the tcpdump capture of the large frames, for the largest frame and datagrams per frame.
  frames: bool.default(true),
  // Only frames above MTU + 14 are kept: USO on at 1 Gbit/s makes ~2000 of them a second.
  maxPackets: wholeNumber(10, 1000000).default(1000000),
  snapLength: wholeNumber(64, 262144).default(128),
});

/** One row of a round: a payload, sender and bitrate of the matrix, and how many repetitions (pairs with usoArms) to add. */
const roundRow = z.strictObject({
  payload: wholeNumber(UDP_PAYLOAD_MIN, UDP_PAYLOAD_MAX),
  sender: oneOf(SENDERS),
  bitrate,
  repetitions: wholeNumber(1, 100),
});

export const benchmarkSchema = z.strictObject({
  runId: matching(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 characters of letters, digits, '_', '.', '-'").default("1"),
  /**
   * A round of `sweep --budget`: the matrix narrowed to these rows, each with its own number of
   * repetitions, numbered on from `firstRepetition` (so a row's pairs stay distinct across the
   * rounds of one boot). Read by the benchmark step alone: a round replaces nothing else.
   */
  round: z
    .strictObject({
      firstRepetition: wholeNumber(1, 100000).default(1),
      rows: z.array(roundRow, { error: "must be a list of rows { payload, sender, bitrate, repetitions }" }).min(1, { error: "must list at least one row" }),
    })
    .optional(),
});

/** The stack's settings, each a key under the `offload-lab:` namespace. */
export const labSchema = z.strictObject({
  host: hostSchema.prefault({ connection: "local" }),
  libvirt: libvirtSchema.prefault({}),
  network: networkSchema.prefault({}),
  guest: guestSchema,
  guestOffloads: guestOffloadsSchema.prefault({}),
  hostOffloads: z
    .strictObject({ tap: featureMap.prefault({}), bridge: featureMap.prefault({}) })
    .prefault({}),
  iperf3: iperf3Schema.prefault({}),
  matrix: matrixSchema.prefault({}),
  capture: captureSchema.prefault({}),
  benchmark: benchmarkSchema.prefault({}),
  /** The KVM host's name in a host pool (set by `sweep --hosts`): every output names its host. */
  hostName: matching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/, "must be a host name for stacks: letters, digits, '_', '-' (no dot), at most 40").optional(),
  hostSshPrivateKey: secret.optional(),
  guestSshPrivateKey: secret.optional(),
});

export type LabSettings = z.output<typeof labSchema>;
