import { powershellEncoded } from "../quote";

/**
 * A Windows guest runs `powershell.exe -EncodedCommand <this loader>`, and the loader runs the
 * guest script it reads as UTF-8 from stdin. Encoding the whole script instead would hit the
 * 32767-character command-line limit of CreateProcess (cmd.exe, OpenSSH's default shell on
 * Windows, stops at 8191), and `-Command -` runs stdin line by line as if typed.
 *
 * Windows PowerShell started non-interactive with a redirected stderr writes the error,
 * warning, verbose, debug and progress streams to stderr as `#< CLIXML` (PowerShell/PowerShell
 * #5912, #16678). So the loader silences progress, merges every other stream into its own
 * pipeline and writes each record as one plain text line: errors and warnings to stderr,
 * anything else the script outputs to stdout. Both go out as UTF-8 without a BOM, whatever
 * the console code page. `exit N` in the script ends powershell.exe with N; an uncaught
 * error prints its message and where it happened, and exits 1.
 */
export const POWERSHELL_LOADER = `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'Continue'
$VerbosePreference = 'SilentlyContinue'
$DebugPreference = 'SilentlyContinue'
$InformationPreference = 'SilentlyContinue'
$utf8 = New-Object System.Text.UTF8Encoding $false
$stdout = New-Object System.IO.StreamWriter ([Console]::OpenStandardOutput()), $utf8
$stdout.AutoFlush = $true
[Console]::SetOut($stdout)
$stderr = New-Object System.IO.StreamWriter ([Console]::OpenStandardError()), $utf8
$stderr.AutoFlush = $true
[Console]::SetError($stderr)
$buffer = New-Object System.IO.MemoryStream
[Console]::OpenStandardInput().CopyTo($buffer)
$guestScript = [scriptblock]::Create($utf8.GetString($buffer.ToArray()))
try {
  & $guestScript *>&1 | ForEach-Object {
    if ($_ -is [System.Management.Automation.ErrorRecord]) { [Console]::Error.WriteLine("error: $_") }
    elseif ($_ -is [System.Management.Automation.WarningRecord]) { [Console]::Error.WriteLine("warning: $($_.Message)") }
    elseif ($_ -is [System.Management.Automation.InformationalRecord]) { [Console]::Error.WriteLine($_.Message) }
    else { [Console]::Out.WriteLine(($_ | Out-String).TrimEnd()) }
  }
} catch {
  [Console]::Error.WriteLine("$($_.Exception.Message)\`n$($_.ScriptStackTrace)")
  exit 1
}
exit 0
`;

/** The argv that starts PowerShell on the loader, for guest-exec and for SSH alike. */
export const POWERSHELL_ARGV = [
  "powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
  "-EncodedCommand", powershellEncoded(POWERSHELL_LOADER),
] as const;

/** The argv that runs a POSIX sh script read from stdin. */
export const SH_ARGV = ["/bin/sh", "-s"] as const;
