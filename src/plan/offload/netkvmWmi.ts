/**
 * PowerShell functions that read NetKVM's own WMI classes (root\wmi, NetKVM/Common/netkvm.mof
 * in virtio-win/kvm-guest-drivers-windows) for `$adapter`:
 *
 * - `Get-NetKvmWmi CLASS`: the instance whose `InstanceName` is the adapter's
 *   `InterfaceDescription` (NDIS names its WMI instances so; another NetKVM adapter has its
 *   own), flattened to name → value with embedded instances (`NetKvm_Diag.tx`, a `NetKvm_Tx`)
 *   flattened the same way, so ConvertTo-Json prints values and not CIM metadata. `$null`
 *   when the driver does not register the class (builds before tag mm268) or has no instance
 *   for this adapter.
 * - `Get-UdpOffloadCount`: `NetKvm_Diag.tx.UdpOffload`, USO packets the driver handed to the
 *   device, or `$null` where the build lacks the field (before tag mm320, commit 552b439b).
 */
export const NETKVM_WMI_PS = `function ConvertFrom-CimValue($value) {
  if ($value -is [Microsoft.Management.Infrastructure.CimInstance]) {
    $flat = [ordered]@{}
    foreach ($p in $value.CimInstanceProperties) { $flat[$p.Name] = ConvertFrom-CimValue $p.Value }
    return $flat
  }
  return $value
}
function Get-NetKvmWmi([string]$class) {
  try { $all = @(Get-CimInstance -Namespace 'root\\wmi' -ClassName $class -ErrorAction Stop) } catch { return $null }
  $mine = @($all | Where-Object { $_.InstanceName -eq $adapter.InterfaceDescription })
  if ($mine.Count -eq 0) { return $null }
  $values = [ordered]@{}
  foreach ($p in $mine[0].CimInstanceProperties) {
    if ($p.Name -ne 'InstanceName' -and $p.Name -ne 'Active') { $values[$p.Name] = ConvertFrom-CimValue $p.Value }
  }
  $values
}
function Get-UdpOffloadCount {
  $diag = Get-NetKvmWmi 'NetKvm_Diag'
  if ($null -eq $diag -or $null -eq $diag['tx'] -or -not $diag['tx'].Contains('UdpOffload')) { return $null }
  [long]$diag['tx']['UdpOffload']
}`;
