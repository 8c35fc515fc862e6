/**
 * One Windows command line from an argv, as CommandLineToArgvW and the C runtimes (and
 * Cygwin, which iperf3.exe is built with) split it again: an argument with a space, tab or
 * double quote (or an empty one) is wrapped in double quotes; inside, each `"` becomes `\"`
 * and the backslashes in front of a `"` or of the closing quote are doubled. .NET Framework's
 * ProcessStartInfo takes only this one string (ArgumentList exists from .NET Core 2.1 on).
 */
export function windowsCommandLine(args: readonly string[]): string {
  return args.map(windowsArgument).join(" ");
}

function windowsArgument(arg: string): string {
  if (arg !== "" && !/[\s"]/.test(arg)) return arg;
  const escaped = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, "$1$1");
  return `"${escaped}"`;
}
