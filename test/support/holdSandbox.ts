// A process that owns a sandbox until it is killed: the other end of test/lab/sandbox-busy.test.ts.
import { SandboxHost } from "../../src/sandbox/host";

void SandboxHost.start(Number(process.argv[2] ?? 0)).then((host) => {
  console.log(`READY ${JSON.stringify({ namespace: host.ns.name, libvirtdDir: host.lv.dir, libvirtd: host.lv.pid, sshd: host.sshd.pid })}`);
  setInterval(() => undefined, 1 << 30);
});
