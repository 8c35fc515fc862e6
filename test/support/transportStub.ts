import type { LabConfig } from "../../src/config/model";
import type { Transport } from "../../src/plan/transport/transport";

/**
 * The transport of a stack as the host side sees it: what it runs on the KVM host (the agent
 * needs virsh and jq, SSH needs ssh). Host steps' tests need no more of it than that.
 */
export function transportStub(access: LabConfig["guest"]["access"]): Transport {
  return {
    kind: access,
    description: `${access} (test stand-in)`,
    functionDefinition: "",
    secretEnv: {},
    hostTools: access === "ssh" ? ["ssh"] : ["virsh", "jq"],
  };
}
