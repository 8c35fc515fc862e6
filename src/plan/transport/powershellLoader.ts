import { powershellEncoded } from "../quote";

/**
 * A Windows guest runs `powershell.exe -EncodedCommand <this loader>`, and the loader runs the
 * guest script it reads as UTF-8 from stdin. Encoding the whole script instead would hit the
 * 32767-character command-line limit of CreateProcess (cmd.exe, OpenSSH's default shell on
 * Windows, stops at 8191), and `-Command -` runs stdin line by line as if typed. `exit N` in
 * the script ends powershell.exe with N; an uncaught error prints its message and where it
 * happened, and exits 1.
 */
export const POWERSHELL_LOADER = `$ErrorActionPreference = 'Stop'
$utf8 = New-Object System.Text.UTF8Encoding $false
try { [Console]::OutputEncoding = $utf8 } catch { }
$buffer = New-Object System.IO.MemoryStream
[Console]::OpenStandardInput().CopyTo($buffer)
$guestScript = [scriptblock]::Create($utf8.GetString($buffer.ToArray()))
try { & $guestScript } catch {
  [Console]::Error.WriteLine("$($_.Exception.Message)\n$($_.ScriptStackTrace)")
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
