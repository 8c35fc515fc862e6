import type { LabConfig } from "../../config/model";
import { LINUX_INTERFACE, linuxInterfaceValues, WINDOWS_ADAPTER, windowsAdapterParameters } from "../guest/libraries";
import { guestStep } from "../guestStep";
import { scriptFile } from "../script/files";
import { guestShScript } from "../script/guestShScript";
import { powershellScript } from "../script/powershellScript";
import type { GuestScript, Step } from "../step";
import type { Transport } from "../transport/transport";
import { parseGuestNetwork, type GuestNetworkReadBack } from "./output";

const LINUX = scriptFile(__dirname, "linux.sh");
const WINDOWS = scriptFile(__dirname, "windows.ps1");

/**
 * How long the guest may take, after its offloads are set, to have its lab address and a
 * route to the host. Under TCG the agent answers some 30 s before systemd-networkd has even
 * brought eth0 up, and DHCP follows after that; a real guest is there in a second.
 */
export const GUEST_NETWORK_WAIT_SECONDS = 180;

function guestScript(cfg: LabConfig): GuestScript {
  const host = cfg.network.hostAddress;
  const want = cfg.network.guestAddress ?? "";
  if (cfg.guest.os === "windows") {
    return {
      language: "ps1",
      script: powershellScript({
        step: "guest-network",
        file: WINDOWS,
        libraries: [WINDOWS_ADAPTER],
        parameters: { ...windowsAdapterParameters(cfg), HostAddress: host, WantAddress: want, WaitSeconds: GUEST_NETWORK_WAIT_SECONDS },
      }),
    };
  }
  return {
    language: "sh",
    script: guestShScript({
      step: "guest-network",
      file: LINUX,
      libraries: [LINUX_INTERFACE],
      values: { ...linuxInterfaceValues(cfg), HOST: host, WANT_ADDRESS: want, WAIT_SECONDS: GUEST_NETWORK_WAIT_SECONDS },
    }),
  };
}

/**
 * The guest, through its transport, waits until the matrix can reach the iperf3 server: its
 * lab interface up, addressed, with a route to the host. It comes after the offloads: an MTU
 * change there can take the link down and up again.
 */
export function guestNetworkStep(cfg: LabConfig, transport: Transport, after: { guestOffloads: Step }): Step<GuestNetworkReadBack> {
  const address = cfg.network.guestAddress === undefined ? "an IPv4 address" : `address ${cfg.network.guestAddress}`;
  return guestStep(transport, {
    name: "guest-network",
    component: "LabGuest",
    guest: guestScript(cfg),
    dependsOn: [after.guestOffloads],
    triggers: [JSON.stringify({ host: cfg.network.hostAddress, guest: cfg.network.guestAddress ?? null })],
    effect: {
      changes: `changes nothing: waits up to ${GUEST_NETWORK_WAIT_SECONDS} s until guest ${cfg.guest.name} has its lab interface up with ${address} and a route to ${cfg.network.hostAddress}`,
    },
    parse: parseGuestNetwork,
  });
}
