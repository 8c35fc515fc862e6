/**
 * A variant's factors as data, in its stack output (`factors`) and in an `import-iperf3` result,
 * so that no reader has to parse a variant's name to learn what it measured.
 */
export type GuestOs = "linux" | "windows";

export interface VariantFactors {
  /** Null only in an import that was not told (`import-iperf3` without `--os`). */
  readonly os: GuestOs | null;
  readonly mtu: number;
  /** The USO setting the variant asked for; null when the stack left it to the driver or an import was not told. */
  readonly uso: boolean | null;
  /** True: the cells carry their own `arm` (the lab switched USO between cells of one booted lab). */
  readonly arms: boolean;
  /** The KVM host's name (`host.identity.name`); null when unknown. */
  readonly host: string | null;
}

/**
 * A lab stack's factors. With in-lab arms (matrix.usoArms) the stack has no USO of its own:
 * `uso` is null and every cell carries its `arm`, which readers take first.
 */
export function stackFactors(s: { os: GuestOs; mtu: number; uso: boolean | undefined; usoArms: boolean }, host: string | null): VariantFactors {
  return { os: s.os, mtu: s.mtu, uso: s.usoArms ? null : (s.uso ?? null), arms: s.usoArms, host };
}

/** The host-readiness output's `identity`: every cell of one run is from this host. */
export interface HostIdentity {
  readonly name: string;
  readonly address: string | null;
  readonly kernel: string | null;
  readonly qemu: string | null;
  readonly libvirt: string | null;
  readonly cpuModel: string | null;
}
