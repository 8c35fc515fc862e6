/**
 * A step is data: what to run, where, what undoes it, and what it waits for. The Pulumi
 * shell turns each step into one Command resource; `render` writes the same steps to files.
 * A step never knows how it reaches its machine: guest steps are wrapped by a transport.
 */
export type Machine = "host" | "guest";

/** The components a QE engineer sees; each groups its steps in the Pulumi tree. */
export type Component = "LabHost" | "LabNetwork" | "LabGuest" | "OffloadProfile" | "Iperf3Server" | "Benchmark";

export interface StepDocument {
  /** File name in `render` output, e.g. `network.xml`. */
  readonly file: string;
  readonly content: string;
}

export interface Step {
  /** Unique kebab-case name: Pulumi resource name and `render` file stem. */
  readonly name: string;
  readonly component: Component;
  readonly runsOn: Machine;
  /** `sh` (bash on the host, POSIX sh in a Linux guest) or `ps1` (a Windows guest). */
  readonly language: "sh" | "ps1";
  /** Runs on create; its stdout becomes the step's output and is parsed by results/. */
  readonly create: string;
  /** Runs on destroy; must succeed when what it removes is already gone. */
  readonly delete?: string;
  /** Names of steps that must finish first. */
  readonly dependsOn: readonly string[];
  /**
   * Values whose change replaces (re-runs) this step and the steps after it, and nothing
   * else: an offload change re-runs the offload and benchmark steps, not the domain.
   */
  readonly triggers: readonly string[];
  /** Documents embedded in `create` (libvirt XML), written beside the script by `render`. */
  readonly documents?: readonly StepDocument[];
  /** Environment variables fed from Pulumi secrets: variable name → config key. */
  readonly secretEnv?: Readonly<Record<string, string>>;
}
