$ErrorActionPreference = 'Stop'
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
    elseif ($_ -is [System.Management.Automation.InformationRecord]) { [Console]::Error.WriteLine("$($_.MessageData)") }
    else { [Console]::Out.WriteLine(($_ | Out-String).TrimEnd()) }
  }
} catch {
  [Console]::Error.WriteLine("$($_.Exception.Message)`n$($_.ScriptStackTrace)")
  exit 1
}
exit 0
