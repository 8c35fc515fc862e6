# offload-lab cell udp-8972B-plain-mtu9000-uso-on-r1
$ErrorActionPreference = 'Stop'
function Get-UdpOffload {
  try {
    $diag = Get-CimInstance -Namespace 'root\wmi' -ClassName 'NetKvm_Diag' -ErrorAction Stop | Select-Object -First 1
    if ($null -ne $diag -and $null -ne $diag.PSObject.Properties['UdpOffload']) { return [long]$diag.UdpOffload }
  } catch { }
  return $null
}
$before = Get-UdpOffload
$out = [System.IO.Path]::GetTempFileName()
$err = [System.IO.Path]::GetTempFileName()
$p = Start-Process -FilePath 'C:\iperf3\iperf3.exe' -ArgumentList @('-c', '192.168.122.1', '-p', '12345', '-u', '-l', '8972', '-b', '1G', '-t', '10', '-J', '--get-server-output', '--connect-timeout', '5000') -NoNewWindow -PassThru -RedirectStandardOutput $out -RedirectStandardError $err
# Reading Handle now keeps ExitCode available after the process ends (a .NET quirk).
$null = $p.Handle
if (-not $p.WaitForExit(40000)) { $p.Kill(); $p.WaitForExit(); $code = 124 } else { $code = $p.ExitCode }
$after = Get-UdpOffload
[Console]::Out.Write((Get-Content -Raw -LiteralPath $out))
[Console]::Out.Write("`n" + (ConvertTo-Json -Compress @{ offloadLabCounters = @{ udpOffloadBefore = $before; udpOffloadAfter = $after } }) + "`n")
[Console]::Error.Write((Get-Content -Raw -LiteralPath $err))
Remove-Item -LiteralPath $out, $err -ErrorAction SilentlyContinue
exit $code
