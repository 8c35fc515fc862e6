// Examples shown by --help, written as they must be typed: a `--fail-if` rule holds `>`, which
// an unquoted shell word turns into a redirection (it creates a file named `5%`), so it is
// always shown in single quotes. test/cli/help.test.ts parses every example as a shell would
// and checks the README's CLI section shows the same lines.

/** The command lines of `offload-lab --help`, without the prompt. */
export const EXAMPLE_LINES = [
  "offload-lab render --stack mtu9000-uso-on --out out/mtu9000-uso-on",
  "offload-lab import-iperf3 runs/*.json --os linux --mtu 9000 --uso on --out manual.json",
  "offload-lab report results/ sweep/ manual.json --out report/ --fail-if 'throughput-drop:uso>5%'",
  "offload-lab sweep --stacks mtu1500-uso-off,mtu1500-uso-on,mtu9000-uso-off,mtu9000-uso-on --samples 3 --shuffle --out sweep/",
  "offload-lab sweep --hosts pool.yaml --stacks mtu1500-uso-off,mtu1500-uso-on --samples 3 --shard 1/2 --out sweep-1/",
  "offload-lab up --stack mtu9000-uso-on --hosts pool.yaml --host kvm-a",
] as const;

const QUOTING = "Quote an argument holding > < | & ; $ or a space ('…'): the shell acts on those characters itself.";

const examples = (lines: readonly string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n\n${QUOTING}`;

export const EXAMPLES = examples(EXAMPLE_LINES);

export const REPORT_EXAMPLES = examples([
  "offload-lab report results/ --out report/",
  "offload-lab report sweep/ manual.json --out report/ --fail-if 'throughput-drop:uso>5%' --fail-if 'cpu-rise:mtu1500-uso-off..mtu1500-uso-on>2'",
]);

export const SWEEP_EXAMPLES = examples([
  "offload-lab sweep --stacks mtu1500-uso-off,mtu1500-uso-on --samples 3 --shuffle --out sweep/ --fail-if 'throughput-drop:uso>5%'",
  "offload-lab sweep --sandbox --stacks sandbox-uso-off,sandbox-uso-on --samples 2 --out out/sweep",
  "offload-lab sweep --sandbox --stacks sandbox-mtu1500-uso-arms,sandbox-mtu9000-uso-arms --precision 10% --budget 15m --out out/report",
]);

export const FAIL_IF_HELP =
  "exit 1 when breached, e.g. 'throughput-drop:uso>5%' in single quotes (unquoted, the shell takes >5% as a redirection); repeatable";
