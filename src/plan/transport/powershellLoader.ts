import { powershellEncoded } from "../quote";
import { scriptFile } from "../script/files";

/**
 * A Windows guest runs `powershell.exe -EncodedCommand <the loader>`, and the loader
 * (powershell-loader.ps1) runs the guest script it reads as UTF-8 from stdin. Encoding the
 * whole script instead would hit the 32767-character command-line limit of CreateProcess
 * (cmd.exe, OpenSSH's default shell on Windows, stops at 8191), and `-Command -` runs stdin
 * line by line as if typed.
 *
 * Windows PowerShell started non-interactive with a redirected stderr writes the error,
 * warning, verbose, debug and progress streams to stderr as `#< CLIXML` (PowerShell/PowerShell
 * #5912, #16678). So the loader silences progress, merges every other stream into its own
 * pipeline and writes each record as one plain text line: errors, warnings, verbose and debug
 * records, and information records (what Write-Host and Write-Information write since
 * PowerShell 5: an InformationRecord, which is not an InformationalRecord) to stderr; anything
 * else the script outputs to stdout, which so carries only the step's one JSON document. Both go out as UTF-8 without a BOM, whatever
 * the console code page. `exit N` in the script ends powershell.exe with N; an uncaught
 * error prints its message and where it happened, and exits 1.
 *
 * Every character of the file goes onto that command line, so it carries no comments: this
 * is its explanation.
 */
export const POWERSHELL_LOADER = scriptFile(__dirname, "powershell-loader.ps1").text;

/** The argv that starts PowerShell on the loader, for guest-exec and for SSH alike. */
export const POWERSHELL_ARGV = [
  "powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
  "-EncodedCommand", powershellEncoded(POWERSHELL_LOADER),
] as const;

/** The argv that runs a POSIX sh script read from stdin. */
export const SH_ARGV = ["/bin/sh", "-s"] as const;
