/**
 * virtio-rng-pci and virtio-serial-pci end to end: the fixture drivers
 * (fixtures/src/virtio_rng.asm, virtio_console.asm), booted by SeaBIOS from
 * an IDE disk, read random bytes and move bytes both ways on hvc0 and the
 * named port, under vmrun (`--device`, the API's `vm.console` and
 * `vm.port`) and under QEMU with the same `-device`s; both print the same.
 */

import {
  deepStrictEqual,
  match,
  notDeepStrictEqual,
  ok,
  rejects,
  strictEqual,
  throws,
} from "node:assert";
import { join } from "node:path";
import { Vm, VmOptionsError } from "../mod.ts";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";
import { imageCopy } from "./api_fixtures.ts";

/** The fixtures' exit value when all went well. */
const OK_EXIT = 0x21;
// Hang guards, not performance checks: a SeaBIOS boot takes ~10 s here, more when busy.
const RUN_LIMIT_MS = 120_000;
const WAIT = { timeout: 60_000 };

const lines = (text: string) => text.split("\r\n").filter((l) => l !== "");

/** The rng fixture's report: its lines with the random bytes replaced by their count. */
function rngReport(text: string): { shape: string[]; bytes: number[] } {
  let bytes: number[] = [];
  const shape = lines(text).map((l) => {
    const m = /^rng bytes:((?: [0-9a-f]{2})*)$/.exec(l);
    if (!m) return l;
    bytes = m[1].trim().split(" ").map((h) => parseInt(h, 16));
    return `rng bytes: ${bytes.length} of them`;
  });
  return { shape, bytes };
}

const RNG_SHAPE = [
  "rng: found",
  "rng used: 40",
  "rng bytes: 64 of them",
  "rng: not all zero",
];

kvmTest("virtio-rng-pci: 64 random bytes, new ones every run, as under QEMU", async () => {
  const image = fixture("virtio_rng");
  const vmrun = () =>
    runVmrun(["--headless", "--snapshot", "--timeout", "90", "--device", "virtio-rng-pci", image], {
      killAfterMs: RUN_LIMIT_MS,
    });
  const qemu = new QemuProcess(image, {
    extraArgs: ["-device", "virtio-rng-pci"],
    killAfterMs: RUN_LIMIT_MS,
  });
  const [first, second, reference] = await Promise.all([vmrun(), vmrun(), qemu.finished()]);
  for (const run of [first, second]) {
    strictEqual(run.code, OK_EXIT, run.stdout + run.stderr);
    deepStrictEqual(rngReport(run.stdout).shape, RNG_SHAPE);
  }
  notDeepStrictEqual(rngReport(first.stdout).bytes, rngReport(second.stdout).bytes);
  strictEqual(reference.debugExit, OK_EXIT, reference.stdout + reference.stderr);
  deepStrictEqual(rngReport(reference.stdout).shape, RNG_SHAPE);
});

/** What the console fixture prints on COM1 with the default port name. */
const CONSOLE_LINES = [
  "console: found",
  "console: multiport",
  "ports added: 0 1",
  "console port: 0",
  "port 1 name: org.vmrun.port1",
  "host open: 0 1",
  "echo done: 0 1",
];

kvmTest("virtio-serial-pci: hvc0 and the named port move bytes both ways (API)", async () => {
  await using vm = await Vm.start({
    disk: imageCopy("virtio_console"),
    device: "virtio-serial-pci",
    snapshot: true,
    timeout: RUN_LIMIT_MS,
  });
  const port = vm.port("org.vmrun.port1");
  // Input written before the guest opened the ports waits for it.
  await vm.console.write("early0 ");
  await port.write("early1 ");
  await vm.console.waitFor("hello hvc0\r\n", WAIT);
  await port.waitFor("hello port1\r\n", WAIT);
  // Far more than the guest's four 64-byte receive buffers: it flows as they come back.
  const bulk = Array.from({ length: 8000 }, (_, i) => String.fromCharCode(0x41 + i % 26)).join("");
  await vm.console.write("ping0!");
  await port.write(bulk + "ping1!");
  await vm.console.waitFor("early0 ping0!", WAIT);
  await port.waitFor("early1 " + bulk + "ping1!", WAIT);
  const exit = await vm.exited;
  deepStrictEqual([exit.reason, exit.code], ["debug-exit", OK_EXIT]);
  deepStrictEqual(lines(vm.serial.text()), CONSOLE_LINES);
  strictEqual(vm.console.text(), "hello hvc0\r\nearly0 ping0!");
  strictEqual(port.text(), "hello port1\r\nearly1 " + bulk + "ping1!");
});

/** vmrun headless on the virtio_console fixture with `device`, until `exitOn` matches. */
function consoleRun(exitOn: string, device: string) {
  return runVmrun([
    "--headless",
    "--snapshot",
    "--timeout",
    "60",
    "--exit-on",
    exitOn,
    "--device",
    device,
    fixture("virtio_console"),
  ], { killAfterMs: RUN_LIMIT_MS });
}

kvmTest(
  "virtio-serial-pci: a port name from the command line; unknown names are refused",
  async () => {
    const run = await consoleRun("host open", "virtio-serial-pci,name=org.test.other");
    strictEqual(run.code, 0, run.stdout + run.stderr);
    match(run.stdout, /port 1 name: org\.test\.other\r\n/);
    const bad = await runVmrun(["--device", "virtio-gpu-pci", fixture("virtio_console")]);
    strictEqual(bad.code, 2);
    match(
      bad.stderr,
      /unknown device 'virtio-gpu-pci' \(known: virtio-rng-pci, virtio-serial-pci, .*\bES1370;/,
    );
    strictEqual(bad.stderr.trim().split("\n").length, 1);
  },
);

kvmTest(
  "virtio-serial-pci: hvc0's output shows on stdout headless, and --exit-on matches it",
  async () => {
    // "hello hvc0" only ever goes to hvc0 (COM1 gets the fixture's report lines).
    const run = await consoleRun("^hello hvc0$", "virtio-serial-pci");
    strictEqual(run.code, 0, run.stdout + run.stderr);
    match(run.stdout, /hello hvc0\r\n/);
    match(run.stderr, /--exit-on '\^hello hvc0\$' matched: hello hvc0\n/);
  },
);

Deno.test("Vm.start refuses an unknown device or option in the CLI's words", async () => {
  for (const device of ["virtio-gpu-pci", ["virtio-rng-pci", "virtio-serial-pci,speed=1"]]) {
    await rejects(Vm.start({ disk: imageCopy("hello"), firmware: "none", device }), (e) => {
      ok(e instanceof VmOptionsError, String(e));
      match(e.message, /unknown device 'virtio-gpu-pci' \(known: |has no option 'speed'/);
      return true;
    });
  }
  await rejects(
    Vm.start({ disk: imageCopy("hello"), device: 7 as unknown as string }),
    /device must be a device spec or a list of them/,
  );
});

kvmTest("vm.port needs the device and its name", async () => {
  await using plain = await Vm.start({ disk: imageCopy("hello"), firmware: "none" });
  throws(() => plain.port("org.vmrun.port1"), /no virtio-serial-pci/);
  await using vm = await Vm.start({
    disk: imageCopy("hello"),
    firmware: "none",
    device: "virtio-serial-pci,name=a.b",
  });
  throws(
    () => vm.port("org.vmrun.port1"),
    /no virtio console port 'org.vmrun.port1' \(it has 'a.b'\)/,
  );
  strictEqual(vm.port("a.b"), vm.port("a.b"));
});

/** Connects to a unix socket, retrying while QEMU has not created it yet. */
async function connectUnix(path: string): Promise<Deno.UnixConn> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A chardev socket's text, and a wait on it. */
class SocketText {
  text = "";
  readonly #done: Promise<void>;

  constructor(readonly conn: Deno.UnixConn) {
    this.#done = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of conn.readable) this.text += dec.decode(chunk, { stream: true });
    })().catch(() => {});
  }

  async waitFor(s: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!this.text.includes(s)) {
      if (Date.now() > deadline) {
        throw new Error(`'${s}' not seen; got ${JSON.stringify(this.text)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async write(s: string): Promise<void> {
    await this.conn.write(new TextEncoder().encode(s));
  }

  closed(): Promise<void> {
    return this.#done;
  }
}

kvmTest(
  "virtio-serial-pci: the same fixture under QEMU (virtconsole + virtserialport) agrees",
  async () => {
    const dir = Deno.makeTempDirSync({ prefix: "vmrun-virtio-" });
    try {
      const sockets = [join(dir, "hvc0.sock"), join(dir, "port1.sock")];
      // wait=on: QEMU starts the guest only once both ports are connected, so
      // the host side is open from the start, as vmrun's always is.
      const qemu = new QemuProcess(fixture("virtio_console"), {
        killAfterMs: RUN_LIMIT_MS,
        extraArgs: [
          "-chardev",
          `socket,id=hvc0,path=${sockets[0]},server=on,wait=on`,
          "-chardev",
          `socket,id=port1,path=${sockets[1]},server=on,wait=on`,
          "-device",
          "virtio-serial-pci",
          "-device",
          "virtconsole,chardev=hvc0",
          "-device",
          "virtserialport,chardev=port1,name=org.vmrun.port1",
        ],
      });
      const hvc0 = new SocketText(await connectUnix(sockets[0]));
      const port1 = new SocketText(await connectUnix(sockets[1]));
      await hvc0.waitFor("hello hvc0\r\n");
      await port1.waitFor("hello port1\r\n");
      await hvc0.write("ping0!");
      await port1.write("ping1!");
      await hvc0.waitFor("ping0!");
      await port1.waitFor("ping1!");
      const done = await qemu.finished();
      strictEqual(done.debugExit, OK_EXIT, done.stdout + done.stderr);
      deepStrictEqual(lines(done.stdout), CONSOLE_LINES);
      strictEqual(hvc0.text, "hello hvc0\r\nping0!");
      strictEqual(port1.text, "hello port1\r\nping1!");
      // QEMU closed both connections when it exited.
      await Promise.all([hvc0.closed(), port1.closed()]);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
