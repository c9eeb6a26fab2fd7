/**
 * User-mode networking end to end: the e1000 fixture driver gets a DHCP
 * offer, resolves the gateway and pings it under vmrun and under QEMU with
 * the same lines; a host UDP datagram through hostfwd is echoed back; the
 * pcap capture holds the DHCP exchange. The virtio-net fixture does the same;
 * --nic on the command line and Vm.start({ nic }) reach them; a save with a
 * NIC restores with a new network, holding the forwards in force at the save.
 */
import dgram from "node:dgram";
import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { Machine } from "../machine/machine.ts";
import type { HostForwardConfig, MachineConfig, NicConfig } from "../machine/config.ts";
import { openSaveFile } from "../machine/restore.ts";
import { readPcap } from "../machine/pcap.ts";
import { DEFAULT_BIOS } from "../machine/firmware.ts";
import { parseFrame } from "../host/test_frames.ts";
import { kvmTest } from "./kvm_available.ts";
import { runVmrun as runVmrunProcess } from "./vmrun_process.ts";
import { Vm } from "../mod.ts";

const EXPECTED = [
  "nic 8086:100e",
  "mac 52:54:00:12:34:56",
  "dhcp offer 10.0.2.15 from 10.0.2.2",
  "arp 10.0.2.2 is 52:55:0a:00:02:02",
  "ping reply from 10.0.2.2 seq 1",
  "echo ready",
];

function nic(extra: Partial<NicConfig> = {}): NicConfig {
  return {
    model: "e1000",
    mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
    network: "10.0.2.0",
    prefixLength: 24,
    host: "10.0.2.2",
    dhcpStart: "10.0.2.15",
    dns: "10.0.2.3",
    restrict: false,
    hostForwards: [],
    tftp: null,
    bootfile: null,
    pcap: null,
    romfile: "",
    ...extra,
  };
}

/** The host port the machine's first forward bound (asked for as port 0). */
function boundPort(m: Machine): number {
  const f = m.net?.forwards[0];
  if (!f) throw new Error("the machine has no forward in force");
  return f.boundPort;
}

/** The fixture that drives `n`'s model. */
function fixtureFor(n: NicConfig): string {
  return fixture(`net_${n.model}`);
}

function machineConfig(n: NicConfig): MachineConfig {
  return {
    memoryBytes: 64 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: null },
    disks: [{ path: fixtureFor(n), interface: "ide", media: "disk", readonly: true }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.now(),
    nics: [n],
  };
}

/**
 * Sends `text` to 127.0.0.1:`port` over UDP, again every 2 s as UDP clients
 * do (a network that must first ARP for the guest may drop the first one);
 * the reply, or "(no reply)" after 20 s.
 */
async function udpExchange(port: number, text: string): Promise<string> {
  const sock = dgram.createSocket("udp4");
  let resend: ReturnType<typeof setInterval> | undefined;
  try {
    const got = new Promise<string>((resolve) => sock.on("message", (m) => resolve(String(m))));
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
    const send = () => sock.send(text, port, "127.0.0.1");
    send();
    resend = setInterval(send, 2_000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<string>((r) => timer = setTimeout(() => r("(no reply)"), 20_000));
    const reply = await Promise.race([got, timeout]);
    clearTimeout(timer);
    return reply;
  } finally {
    clearInterval(resend);
    sock.close();
  }
}

/** Runs the fixture under vmrun until `until` shows on COM1; returns COM1's lines. */
async function runVmrun(n: NicConfig, until: RegExp, after?: (m: Machine) => Promise<void>) {
  let out = "";
  let seen!: () => void;
  const shown = new Promise<void>((r) => seen = r);
  const m = new Machine(machineConfig(n), {
    serial: (b) => {
      out += new TextDecoder().decode(b);
      if (until.test(out)) seen();
    },
  });
  const guard = setTimeout(() => m.stop(), 60_000);
  try {
    await Promise.race([shown, m.exited]);
    await m.net?.ready;
    if (after) await after(m);
  } finally {
    clearTimeout(guard);
    await m.stop();
  }
  return out.split(/\r?\n/).filter((l) => l);
}

kvmTest("e1000 fixture: DHCP offer, ARP and ping through libslirp under vmrun", async () => {
  const pcap = await Deno.makeTempFile({ suffix: ".pcap" });
  try {
    const lines = await runVmrun(nic({ pcap }), /echo ready/);
    deepStrictEqual(lines, EXPECTED);
    const frames = readPcap(await Deno.readFile(pcap)).map(parseFrame);
    ok(frames.some((f) => f.udp?.dstPort === 67), "the DISCOVER is in the capture");
    ok(frames.some((f) => f.dhcp?.type === 2 && f.dhcp.yiaddr === "10.0.2.15"), "the OFFER too");
  } finally {
    await Deno.remove(pcap);
  }
});

/** COM1's lines of `image` under QEMU with `-nic user,model=<model>`, up to "echo ready" or a failure. */
async function runQemu(image: string, model: string): Promise<string[]> {
  const child = new Deno.Command("qemu-system-x86_64", {
    args: [
      "-bios",
      DEFAULT_BIOS,
      "-nodefaults",
      "-vga",
      "std",
      "-accel",
      "kvm",
      "-m",
      "64",
      "-display",
      "none",
      "-serial",
      "stdio",
      "-drive",
      `file=${image},format=raw,if=ide,snapshot=on`,
      "-nic",
      `user,model=${model}`,
    ],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  let out = "";
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const reader = child.stdout.getReader();
    while (!/echo ready\r?\n|\bno [^\n]*\n/.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    reader.releaseLock();
  } finally {
    clearTimeout(guard);
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
  return out.split(/\r?\n/).filter((l) => l);
}

/** The fixture's UDP echo (port 7), from a host port the kernel chooses on 127.0.0.1. */
const ECHO_FORWARD: HostForwardConfig = {
  protocol: "udp",
  hostAddress: "127.0.0.1",
  hostPort: 0,
  guestAddress: "",
  guestPort: 7,
};

for (const model of ["e1000", "virtio"] as const) {
  // virtio-net: the network worker holds its RX queue on lease whenever the vCPU runs;
  // the save and the restored run must still see the queue whole.
  kvmTest(
    `a VM saved with NIC model ${model} restores with its NIC and a new network that forwards`,
    async () => {
      // Port 0: the network binds one the kernel chooses, so no other process can take it
      // between a probe and the bind (a "free" port found first could be gone by then).
      const n = nic({ model, hostForwards: [ECHO_FORWARD] });
      const dir = await Deno.makeTempDir();
      const file = `${dir}/vm.save`;
      try {
        let out = "";
        let seen!: () => void;
        const ready = new Promise<void>((r) => seen = r);
        const a = new Machine(machineConfig(n), {
          serial: (b) => {
            out += new TextDecoder().decode(b);
            if (/echo ready/.test(out)) seen();
          },
        });
        const guardA = setTimeout(() => a.stop(), 60_000);
        const ended = await Promise.race([ready.then(() => null), a.exited]);
        clearTimeout(guardA);
        // A guest that ended first (no lease, no ARP) says why on COM1; the VMM in its exit.
        ok(/echo ready/.test(out), `the guest did not get ready: ${JSON.stringify(ended)} ${out}`);
        await a.net?.ready;
        strictEqual(await udpExchange(boundPort(a), "before the save"), "before the save");
        // Forwards changed while the guest ran are those the save file records.
        // The guest's address named (the first forward leaves it to slirp): the two differ.
        const added = { ...n.hostForwards[0], guestAddress: "10.0.2.15" };
        const addedPort = await a.net!.addForward(0, added);
        await a.net!.removeForward(0, "udp", "127.0.0.1", boundPort(a));
        strictEqual(await udpExchange(addedPort, "through the added"), "through the added");
        await a.save(file, { stop: true });
        strictEqual((await a.exited).reason, "stopped");

        const header = openSaveFile(file);
        deepStrictEqual(header.config.nics, [{ ...n, hostForwards: [added] }]);
        const b = new Machine(header.config, {}, { restorePath: file });
        const guardB = setTimeout(() => b.stop(), 60_000);
        try {
          await b.net?.ready;
          strictEqual(await udpExchange(boundPort(b), "after the restore"), "after the restore");
          const snap = await b.snapshot();
          const row = snap.devices?.nics[0];
          strictEqual(row?.model, model);
          ok((row?.counters.rxPackets ?? 0) >= 4, "the counters carried on from the save");
        } finally {
          clearTimeout(guardB);
          await b.stop();
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

kvmTest("a save asked before the network is up keeps the forwards the NIC was given", async () => {
  const n = nic({ hostForwards: [ECHO_FORWARD] });
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/vm.save`;
    const m = new Machine(machineConfig(n), {});
    // Asked in the same turn as the start: the network worker cannot have answered yet.
    const saved = m.save(file, { stop: true });
    await saved;
    strictEqual((await m.exited).reason, "stopped");
    deepStrictEqual(openSaveFile(file).config.nics, [n]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

kvmTest(
  "vmrun --nic on the command line: the virtio fixture gets its lease and exits on 'echo ready'",
  async () => {
    const r = await runVmrunProcess([
      "--headless",
      "--snapshot",
      "--timeout",
      "60",
      "--nic",
      "user,model=virtio,romfile=",
      "--exit-on",
      "echo ready",
      fixture("net_virtio"),
    ], { killAfterMs: 90_000 });
    strictEqual(r.code, 0, r.stderr);
    ok(r.stdout.includes("dhcp offer 10.0.2.15 from 10.0.2.2"), r.stdout);
    ok(r.stdout.includes("ping reply from 10.0.2.2 seq 1"), r.stdout);
  },
);

kvmTest("Vm.start({ nic }) from the API: an e1000 with a UDP forward answers", async () => {
  await using vm = await Vm.start({
    disk: fixture("net_e1000"),
    snapshot: true,
    nic: { model: "e1000", hostfwd: "udp:127.0.0.1:0-:7", romfile: "" },
  });
  await vm.serial.waitFor("echo ready", { timeout: 60_000 });
  const [fwd] = await vm.net.forwards();
  strictEqual(await udpExchange(fwd.hostPort, "hello api"), "hello api");
});

/**
 * The two tests of each NIC's fixture, which prints the e1000's lines but
 * the first (the card it found): under vmrun with a UDP echo through
 * hostfwd, and under QEMU.
 */
function nicFixtureTests(
  model: "e1000" | "virtio" | "rtl8139" | "ne2k_pci",
  id: string,
  hello: string,
): void {
  const expected = [`nic ${id}`, ...EXPECTED.slice(1)];

  kvmTest(
    `${model} fixture: DHCP offer, ARP and ping, and a UDP echo through hostfwd`,
    async () => {
      const fwd = {
        protocol: "udp",
        hostAddress: "127.0.0.1",
        hostPort: 0,
        guestAddress: "",
        guestPort: 7,
      } as const;
      let reply = "";
      const n = nic({ model, hostForwards: [fwd] });
      const lines = await runVmrun(n, /echo ready/, async (m) => {
        reply = await udpExchange(boundPort(m), hello);
      });
      deepStrictEqual(lines.slice(0, expected.length), expected);
      strictEqual(reply, hello);
    },
  );

  kvmTest(`${model} fixture: QEMU -nic user,model=${model} prints the same lines`, async () => {
    deepStrictEqual(await runQemu(fixture(`net_${model}`), model), expected);
  });
}

nicFixtureTests("e1000", "8086:100e", "hello vmrun");
nicFixtureTests("virtio", "1af4:1000", "hello virtio");
nicFixtureTests("rtl8139", "10ec:8139", "hello rtl8139");
nicFixtureTests("ne2k_pci", "10ec:8029", "hello ne2k");
