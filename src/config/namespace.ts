/** The Pulumi config namespace of every setting: `offload-lab:network.mtu`. */
export const NAMESPACE = "offload-lab";
