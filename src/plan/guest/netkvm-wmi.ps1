# NetKVM's own WMI classes (root\wmi, NetKVM/Common/netkvm.mof in
# virtio-win/kvm-guest-drivers-windows), for one adapter.
#
# Get-NetKvmWmi ADAPTER CLASS: the instance whose InstanceName is the adapter's
# InterfaceDescription (NDIS names its WMI instances so; another NetKVM adapter has its own),
# flattened to name → value with embedded instances (NetKvm_Diag.tx, a NetKvm_Tx) flattened
# the same way, so ConvertTo-Json prints values and not CIM metadata. $null when the driver
# does not register the class (builds before tag mm268) or has no instance for this adapter.
#
# Get-UdpOffloadCount ADAPTER: NetKvm_Diag.tx.UdpOffload, USO packets the driver handed to the
# device, or $null where the build lacks the field (before tag mm320, commit 552b439b).
#
# Get-NetKvmBuild: which NetKVM the guest runs, told by the WMI classes its driver registers
# (the driver version, 100.x.y.z, encodes the virtio-win build, not the repository tag, and no
# table maps one to the other): 'mm320+' when NetKvm_Config has UsoEnabledv4 (commit 552b439b,
# tag mm320: the driver's own USO flags and NetKvm_Diag.tx.UdpOffload), 'mm268-mm319' when the
# class exists without it (commit 634e6b46), 'before-mm268' when there is no NetKvm_Config.
#
# Get-DriverFlag CONFIG FIELD: 'on', 'off', or 'unverified' where the build lacks the field.
# NetKVM fills UsoEnabledv4/v6 from signed 1-bit fields (int fUsov4 : 1 in ndis56common.h),
# so "on" reads -1: any value other than 0 is on.
function ConvertFrom-CimValue($Value) {
  if ($Value -is [Microsoft.Management.Infrastructure.CimInstance]) {
    $flat = [ordered]@{}
    foreach ($p in $Value.CimInstanceProperties) { $flat[$p.Name] = ConvertFrom-CimValue $p.Value }
    return $flat
  }
  return $Value
}
function Get-NetKvmWmi($Adapter, [string]$Class) {
  try { $all = @(Get-CimInstance -Namespace 'root\wmi' -ClassName $Class -ErrorAction Stop) } catch { return $null }
  $mine = @($all | Where-Object { $_.InstanceName -eq $Adapter.InterfaceDescription })
  if ($mine.Count -eq 0) { return $null }
  $values = [ordered]@{}
  foreach ($p in $mine[0].CimInstanceProperties) {
    if ($p.Name -ne 'InstanceName' -and $p.Name -ne 'Active') { $values[$p.Name] = ConvertFrom-CimValue $p.Value }
  }
  $values
}
function Get-NetKvmBuild {
  try { $class = Get-CimClass -Namespace 'root\wmi' -ClassName 'NetKvm_Config' -ErrorAction Stop } catch { return 'before-mm268' }
  if (@($class.CimClassProperties | Where-Object { $_.Name -eq 'UsoEnabledv4' }).Count -gt 0) { return 'mm320+' }
  'mm268-mm319'
}
function Get-DriverFlag($Config, [string]$Field) {
  if ($null -eq $Config -or -not $Config.Contains($Field) -or $null -eq $Config[$Field]) { return 'unverified' }
  $(if ([long]$Config[$Field] -ne 0) { 'on' } else { 'off' })
}
function Get-UdpOffloadCount($Adapter) {
  $diag = Get-NetKvmWmi $Adapter 'NetKvm_Diag'
  if ($null -eq $diag -or $null -eq $diag['tx'] -or -not $diag['tx'].Contains('UdpOffload')) { return $null }
  [long]$diag['tx']['UdpOffload']
}
