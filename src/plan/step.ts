/**
 * A step is data: what to run on the KVM host, what undoes it, what it waits for, and how to
 * read what it prints. The Pulumi shell turns each step into one Command resource; `render`
 * writes the same steps to files. A guest step was wrapped by its transport when it was
 * planned (src/plan/guestStep.ts): the shell only ever runs host bash.
 */
export type Machine = "host" | "guest";

/** The components a QE engineer sees; each groups its steps in the Pulumi tree. */
export type Component = "LabHost" | "LabNetwork" | "LabGuest" | "OffloadProfile" | "Iperf3Server" | "Benchmark";

export interface StepDocument {
  /** File name in `render` output, e.g. `network.xml`. */
  readonly file: string;
  readonly content: string;
}

/** A guest step's own script, in the guest's language, as its transport hands it over. */
export interface GuestScript {
  readonly language: "sh" | "ps1";
  readonly script: string;
}

/** What a step does to the KVM host and what its delete gives back: `render` prints it. */
export interface StepEffect {
  /** e.g. `defines and starts network offload-lab (bridge olbr0, MTU 1500)`. */
  readonly changes: string;
  /** e.g. `stops and undefines network offload-lab`; absent when there is nothing to undo. */
  readonly undo?: string;
}

export interface Step<Out = unknown> {
  /** Unique kebab-case name: Pulumi resource name and `render` file stem. */
  readonly name: string;
  readonly component: Component;
  readonly runsOn: Machine;
  /** Host bash run on create; its stdout is the step's output, read by `parse`. */
  readonly create: string;
  /** Host bash run on destroy; must succeed when what it removes is already gone. */
  readonly delete?: string;
  /** For a guest step: the guest script that `create` carries through the transport. */
  readonly guest?: GuestScript;
  /** Steps that must finish first. */
  readonly dependsOn: readonly Step[];
  /**
   * Values whose change replaces (re-runs) this step and the steps after it, and nothing
   * else: an offload change re-runs the offload and benchmark steps, not the domain.
   */
  readonly triggers: readonly string[];
  /** Documents embedded in `create` (libvirt XML), written beside the script by `render`. */
  readonly documents?: readonly StepDocument[];
  /** Environment variables fed from Pulumi secrets: variable name → config key. */
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly effect: StepEffect;
  /**
   * The step's stdout as the typed value it stands for. It checks the shape of the JSON the
   * script printed and never judges it: whether the step did what was asked is decided once,
   * by the script, which exits non-zero with the read-back message (so the engine records the
   * failure and the next `up` runs the step again).
   */
  readonly parse: (stdout: string) => Out;
}

/** The type a step's stdout parses to. */
export type StepOutput<S> = S extends Step<infer Out> ? Out : never;
