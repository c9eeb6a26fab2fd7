/**
 * Host port forwards end to end on the virtio-net fixture: forwards added
 * and removed while the guest runs (`vm.net`, the control socket, `vmrun
 * ctl`) with host port 0 reporting the bound port; a TCP connection through
 * hostfwd accepted, echoed and closed cleanly by the fixture's TCP responder,
 * the same under QEMU; and 10,000 frames each way through a UDP forward
 * leaving vmrun's RSS flat.
 */
import dgram from "node:dgram";
import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS } from "../machine/firmware.ts";
import { Vm } from "../mod.ts";
import { kvmTest } from "./kvm_available.ts";
import { numbered, numberOf, UdpProbe } from "./udp_probe.ts";
import { runVmrun, VmrunProcess } from "./vmrun_process.ts";

const VIRTIO = fixture("net_virtio");

/** The lines the fixture prints for one TCP connection that sends `bytes` and closes. */
function tcpLines(bytes: number): string[] {
  return ["tcp connect", `tcp ${bytes} bytes`, "tcp fin", "tcp closed"];
}

/**
 * Connects to 127.0.0.1:`port`, sends `text`, half-closes, and reads until
 * the other side closes; returns what came back.
 */
async function tcpEcho(port: number, text: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(text));
    let got = "";
    const buf = new Uint8Array(4096);
    // The echo first, then our FIN, so the guest sees data and FIN apart.
    while (got.length < text.length) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
    await conn.closeWrite();
    // The guest's FIN: a clean end of stream (a reset would throw).
    strictEqual(await conn.read(buf), null, "the guest closes after our FIN");
    return got;
  } finally {
    conn.close();
  }
}

/** COM1 lines after "echo ready". */
function afterReady(text: string): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l);
  return lines.slice(lines.indexOf("echo ready") + 1);
}

/** Waits until `read()` has `lines` after "echo ready" (or 20 s pass). */
async function waitForLines(read: () => string, lines: string[]): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const got = afterReady(read());
    if (got.length >= lines.length) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  return afterReady(read());
}

kvmTest(
  "vm.net: forwards added at run time on port 0 answer, list their bound ports, and go away",
  async () => {
    await using vm = await Vm.start({
      disk: VIRTIO,
      snapshot: true,
      nic: { model: "virtio", romfile: "", hostfwd: "tcp:127.0.0.1:0-:7" },
    });
    await vm.serial.waitFor("echo ready", { timeout: 60_000 });
    const [start] = await vm.net.forwards();
    strictEqual(start.requestedPort, 0);
    ok(start.hostPort > 0, "the start's port-0 forward holds a real port");
    deepStrictEqual(
      { ...start, hostPort: 0 },
      {
        nic: 0,
        proto: "tcp",
        hostAddr: "127.0.0.1",
        hostPort: 0,
        requestedPort: 0,
        guestAddr: "10.0.2.15",
        guestPort: 7,
        rule: `tcp:127.0.0.1:${start.hostPort}-10.0.2.15:7`,
      },
    );

    const udp = await vm.net.addForward({
      proto: "udp",
      hostAddr: "127.0.0.1",
      hostPort: 0,
      guestPort: 8,
    });
    ok(udp > 0);
    const probe = await UdpProbe.open();
    try {
      const reply = await probe.exchange(udp, numbered(42, 64), (r) => numberOf(r) === 42);
      deepStrictEqual(reply, numbered(42, 64), "the quiet echo came back through the new forward");
      deepStrictEqual((await vm.net.forwards()).map((f) => [f.proto, f.hostPort]), [
        ["tcp", start.hostPort],
        ["udp", udp],
      ]);
      // The port is held: a second forward on it is refused, the first stays.
      await rejects(
        vm.net.addForward({ proto: "udp", hostAddr: "127.0.0.1", hostPort: udp, guestPort: 7 }),
        new RegExp(
          `^Error: hostfwd udp:127.0.0.1:${udp}-:7: host port udp 127.0.0.1:${udp} is already in use$`,
        ),
      );
      await rejects(
        vm.net.addForward({ proto: "udp", hostPort: 0, guestPort: 7, nic: 1 }),
        /no NIC 1/,
      );
      await rejects(vm.net.addRule("udp::1-:0"), /guest port outside 1-65535/);
      strictEqual((await vm.net.forwards()).length, 2);

      await vm.net.removeForward({ proto: "udp", hostAddr: "127.0.0.1", hostPort: udp });
      await rejects(
        vm.net.removeForward({ proto: "udp", hostAddr: "127.0.0.1", hostPort: udp }),
        /no udp forward from host port 127.0.0.1:\d+ on NIC 0/,
      );
      deepStrictEqual((await vm.net.forwards()).map((f) => f.hostPort), [start.hostPort]);
      // Released: the host can bind it again.
      const again = dgram.createSocket("udp4");
      await new Promise<void>((resolve, reject) => {
        again.once("error", reject);
        again.bind(udp, "127.0.0.1", resolve);
      });
      again.close();
    } finally {
      await probe.close();
    }
    await vm.stop();
    await rejects(vm.net.addForward({ proto: "tcp", hostPort: 0, guestPort: 7 }), /stopped/);
  },
);

kvmTest(
  "TCP through hostfwd: the fixture accepts, echoes and closes cleanly, as under QEMU",
  async () => {
    const text = "hello over tcp";
    await using vm = await Vm.start({
      disk: VIRTIO,
      snapshot: true,
      nic: { model: "virtio", romfile: "" },
    });
    await vm.serial.waitFor("echo ready", { timeout: 60_000 });
    const port = await vm.net.addForward({
      proto: "tcp",
      hostAddr: "127.0.0.1",
      hostPort: 0,
      guestPort: 7,
    });
    strictEqual(await tcpEcho(port, text), text);
    const lines = await waitForLines(() => vm.serial.text(), tcpLines(text.length));
    deepStrictEqual(lines, tcpLines(text.length));
    // A second connection on the same forward works as well.
    strictEqual(await tcpEcho(port, "again"), "again");
    deepStrictEqual(
      (await waitForLines(() => vm.serial.text(), [...lines, ...tcpLines(5)])).slice(4),
      tcpLines(5),
    );

    const qemu = await runQemuTcp(text);
    strictEqual(qemu.reply, text);
    deepStrictEqual(qemu.lines, tcpLines(text.length));
  },
);

/** The fixture under QEMU -nic user,model=virtio with a TCP forward; one echo. */
async function runQemuTcp(text: string): Promise<{ reply: string; lines: string[] }> {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (free.addr as Deno.NetAddr).port;
  free.close();
  const child = new Deno.Command("qemu-system-x86_64", {
    args: [
      ...["-bios", DEFAULT_BIOS, "-nodefaults", "-vga", "std", "-accel", "kvm", "-m", "64"],
      ...["-display", "none", "-serial", "stdio"],
      ...["-drive", `file=${VIRTIO},format=raw,if=ide,snapshot=on`],
      ...["-nic", `user,model=virtio,hostfwd=tcp:127.0.0.1:${port}-:7`],
    ],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  let out = "";
  const guard = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const reading = (async () => {
    for await (const chunk of child.stdout) out += new TextDecoder().decode(chunk);
  })();
  try {
    const deadline = Date.now() + 60_000;
    while (!out.includes("echo ready") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const reply = await tcpEcho(port, text);
    const lines = await waitForLines(() => out, tcpLines(text.length));
    return { reply, lines };
  } finally {
    clearTimeout(guard);
    child.kill("SIGKILL");
    await child.status;
    await reading.catch(() => {});
  }
}

kvmTest(
  "vmrun --control: hostfwd=...:0 names its port on stderr; hostfwd_add, _list, _remove and vmrun ctl",
  async () => {
    const path = `${Deno.makeTempDirSync()}/vm.sock`;
    const p = new VmrunProcess([
      ...["--headless", "--snapshot", "--timeout", "120", "--control", path],
      ...["--nic", "user,model=virtio,romfile=,hostfwd=udp:127.0.0.1:0-:8", VIRTIO],
    ], { killAfterMs: 150_000 });
    try {
      await p.waitForStdout("echo ready", 60_000);
      const said = /vmrun: hostfwd udp:127.0.0.1:0-:8 is host port (\d+)\n/.exec(p.stderr);
      ok(said, p.stderr);
      const udp = Number(said[1]);
      const probe = await UdpProbe.open();
      try {
        ok(await probe.exchange(udp, numbered(7, 16), (r) => numberOf(r) === 7));
      } finally {
        await probe.close();
      }

      const add = await runVmrun(["ctl", path, "hostfwd_add", "tcp:127.0.0.1:0-:7"]);
      strictEqual(add.code, 0, add.stderr);
      const tcp = Number(add.stdout.trim());
      ok(tcp > 0, add.stdout);
      strictEqual(await tcpEcho(tcp, "ctl"), "ctl");

      const list = await runVmrun(["ctl", path, "hostfwd_list"]);
      strictEqual(list.code, 0, list.stderr);
      strictEqual(
        list.stdout,
        `0 udp:127.0.0.1:${udp}-10.0.2.15:8\n0 tcp:127.0.0.1:${tcp}-10.0.2.15:7\n`,
      );
      const busy = await runVmrun(["ctl", path, "hostfwd_add", "0", `tcp:127.0.0.1:${tcp}-:22`]);
      strictEqual(busy.code, 1);
      strictEqual(
        busy.stderr,
        `vmrun: hostfwd_add: hostfwd tcp:127.0.0.1:${tcp}-:22: host port tcp 127.0.0.1:${tcp} is already in use\n`,
      );
      const bad = await runVmrun(["ctl", path, "hostfwd_add", "tcp:x"]);
      strictEqual(bad.code, 1);
      match(bad.stderr, /hostfwd 'tcp:x' is malformed/);
      const rm = await runVmrun(["ctl", path, "hostfwd_remove", `tcp:127.0.0.1:${tcp}`]);
      strictEqual(rm.code, 0, rm.stderr);
      strictEqual(
        (await runVmrun(["ctl", path, "hostfwd_list"])).stdout,
        `0 udp:127.0.0.1:${udp}-10.0.2.15:8\n`,
      );
      const gone = await runVmrun(["ctl", path, "hostfwd_remove", `tcp:127.0.0.1:${tcp}`]);
      strictEqual(gone.code, 1);
      strictEqual((await runVmrun(["ctl", path, "quit"])).code, 0);
    } finally {
      p.child.kill("SIGKILL");
      await p.finished();
    }
  },
);

/** VmRSS of process `pid` in KiB. */
function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
}

/** Round trips through the fixture's quiet echo; numbers start at `first`. */
async function echoes(probe: UdpProbe, port: number, first: number, count: number) {
  for (let i = first; i < first + count; i++) {
    await probe.exchange(port, numbered(i, LEAK_PAYLOAD), (r) => numberOf(r) === i, {
      resendMs: 500,
    });
  }
}

/**
 * The bound: 10,000 frames each way of 1,066 bytes carry 21 MB through the
 * rings and libslirp, so anything kept per frame (its 1 KiB payload at
 * least) would grow RSS by 10 MB or more. V8's heap alone moves RSS by a
 * few MB either way between samples (measured here over rounds of 10,000
 * echoes: -5.7 to +3.0 MB), so growth up to 6 MB passes.
 */
const LEAK_BOUND_KIB = 6 * 1024;
/** Payload of each echo. */
const LEAK_PAYLOAD = 1024;

kvmTest("10,000 frames each way through a UDP forward leave vmrun's RSS flat", async () => {
  const p = new VmrunProcess([
    ...["--headless", "--snapshot", "--timeout", "300"],
    ...["--nic", "user,model=virtio,romfile=,hostfwd=udp:127.0.0.1:0-:8", VIRTIO],
  ], { killAfterMs: 330_000 });
  const probe = await UdpProbe.open();
  try {
    await p.waitForStdout("echo ready", 60_000);
    const port = Number(/is host port (\d+)/.exec(p.stderr)?.[1]);
    ok(port > 0, p.stderr);
    // Warm-up: V8 compiles the frame path and its heap reaches its working size.
    await echoes(probe, port, 0, 3_000);
    await new Promise((r) => setTimeout(r, 500));
    const before = rssKiB(p.child.pid);
    await echoes(probe, port, 3_000, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const after = rssKiB(p.child.pid);
    console.log(`vmrun RSS ${before} KiB before, ${after} KiB after 10,000 echoes`);
    ok(
      after - before <= LEAK_BOUND_KIB,
      `RSS grew by ${after - before} KiB over 10,000 echoes (bound ${LEAK_BOUND_KIB} KiB)`,
    );
  } finally {
    await probe.close();
    p.child.kill("SIGKILL");
    await p.finished();
  }
});
