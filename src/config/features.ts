// Names the lab accepts, kept in one place so validation errors can list them.

/** Feature names `ethtool -k` prints, from the kernel's net/ethtool/common.c (netdev_features_strings). */
export const ETHTOOL_FEATURES = [
  "tx-scatter-gather", "tx-checksum-ipv4", "tx-checksum-ip-generic", "tx-checksum-ipv6", "highdma",
  "tx-scatter-gather-fraglist", "tx-vlan-hw-insert", "rx-vlan-hw-parse", "rx-vlan-filter",
  "vlan-challenged", "tx-generic-segmentation", "tx-lockless", "netns-local", "rx-gro", "rx-lro",
  "tx-tcp-segmentation", "tx-gso-robust", "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation",
  "tx-tcp6-segmentation", "tx-fcoe-segmentation", "tx-gre-segmentation", "tx-gre-csum-segmentation",
  "tx-ipxip4-segmentation", "tx-ipxip6-segmentation", "tx-udp_tnl-segmentation",
  "tx-udp_tnl-csum-segmentation", "tx-gso-partial", "tx-tunnel-remcsum-segmentation",
  "tx-sctp-segmentation", "tx-esp-segmentation", "tx-udp-segmentation", "tx-gso-list",
  "tx-fcoe-crc", "tx-checksum-sctp", "fcoe-mtu", "rx-ntuple-filter", "rx-hashing", "rx-checksum",
  "tx-nocache-copy", "loopback", "rx-fcs", "rx-all", "tx-vlan-stag-hw-insert",
  "rx-vlan-stag-hw-parse", "rx-vlan-stag-filter", "l2-fwd-offload", "hw-tc-offload",
  "esp-hw-offload", "esp-tx-csum-hw-offload", "rx-udp_tunnel-port-offload", "tls-hw-tx-offload",
  "tls-hw-rx-offload", "rx-gro-hw", "tls-hw-record", "rx-gro-list", "macsec-hw-offload",
  "rx-udp-gro-forwarding", "hsr-tag-ins-offload", "hsr-tag-rm-offload", "hsr-fwd-offload",
  "hsr-dup-offload",
] as const;
export type EthtoolFeature = (typeof ETHTOOL_FEATURES)[number];

/**
 * QEMU virtio-net-pci boolean properties that shape offload negotiation. libvirt has no
 * attribute for the USO ones, so they travel through <qemu:override>.
 */
export const VIRTIO_NET_FEATURES = [
  "csum", "guest_csum", "gso", "guest_tso4", "guest_tso6", "guest_ecn", "guest_ufo",
  "host_tso4", "host_tso6", "host_ecn", "host_ufo", "mrg_rxbuf", "guest_rsc_ext",
  "host_uso", "guest_uso4", "guest_uso6", "mq", "rss", "hash",
] as const;
export type VirtioNetFeature = (typeof VIRTIO_NET_FEATURES)[number];

/** NetKVM checksum offload values: 0 off, 1 Tx, 2 Rx, 3 Rx+Tx. */
export const CHECKSUM_MODES = ["off", "tx", "rx", "rxtx"] as const;
export type ChecksumMode = (typeof CHECKSUM_MODES)[number];

/** NetKVM *JumboPacket counts the 14-byte Ethernet header and accepts 590..65500. */
export const NETKVM_JUMBO_MIN = 590;
export const NETKVM_JUMBO_MAX = 65500;
export const ETHERNET_HEADER_BYTES = 14;
export const WINDOWS_MTU_MIN = NETKVM_JUMBO_MIN - ETHERNET_HEADER_BYTES;
export const WINDOWS_MTU_MAX = NETKVM_JUMBO_MAX - ETHERNET_HEADER_BYTES;

export const IPV4_UDP_HEADER_BYTES = 28;

/**
 * NetKVM's USO MaxOffLoadSize (PARANDIS_MAX_USO_SIZE, 536 × 64 bytes: "kernel has a limitation
 * of 64 segments, minimal mss in Windows is 536", NetKVM/Common/ndis56common.h) and its
 * minimum of two segments a send (PARANDIS_MIN_LSO_SEGMENTS): the largest `uso` payload.
 */
export const NETKVM_MAX_USO_BYTES = 536 * 64;
export const NETKVM_MIN_USO_SEGMENTS = 2;
export const NETKVM_MAX_USO_PAYLOAD = NETKVM_MAX_USO_BYTES / NETKVM_MIN_USO_SEGMENTS;
export const UDP_PAYLOAD_MIN = 16;
export const UDP_PAYLOAD_MAX = 65507;

/**
 * How a cell's guest sends: `plain` iperf3 (one datagram per send, so USO cannot show), `gso`
 * iperf3 >= 3.21 `--gsro` (Linux UDP_SEGMENT), `uso` a Windows sender setting UDP_SEND_MSG_SIZE.
 */
export const SENDERS = ["plain", "gso", "uso"] as const;
export type SenderKind = (typeof SENDERS)[number];
