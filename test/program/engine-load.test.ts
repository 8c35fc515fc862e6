import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

// vitest compiles TypeScript its own way; the engine does not. This runs the entry the way
// `pulumi up` would load it, with type-checking, so a mistake only the engine sees fails here.
describe("the Pulumi entry loaded as the engine loads it", () => {
  it("compiles with type-checking and registers the lab", () => {
    const out = execFileSync("node", [path.join(__dirname, "engine-load.cjs"), "mtu9000-uso-on"], { encoding: "utf8", timeout: 240_000 });
    const { exports, registered } = JSON.parse(out.trim().split("\n").pop()!) as { exports: string[]; registered: { type: string; name: string }[] };
    expect(exports).toEqual(["cells", "factors", "fingerprint", "guest", "host", "iperf3Server", "mtu", "network", "offloadReadback", "os", "stack", "summary", "uso", "variant"]);
    expect(registered.filter((r) => r.type === "command:local:Command").map((r) => r.name).sort()).toEqual(
      ["benchmark", "guest-check", "guest-disk", "guest-domain", "guest-network", "guest-offloads", "host-firewall", "host-offloads", "host-readiness", "iperf3-server", "network"],
    );
  }, 300_000);
});
