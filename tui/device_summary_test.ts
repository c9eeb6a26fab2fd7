import { deepStrictEqual, ok, strictEqual } from "node:assert";
import type { BoardState } from "../machine/board.ts";
import { summarizeDevices } from "./device_summary.ts";
import { boardState, textScreen } from "./testing.ts";
import { VirtioGpuVga } from "../devices/virtio/virtio_gpu_vga.ts";
import { ArrayGuestMemory } from "../devices/testing/array_guest_memory.ts";

Deno.test("UART registers and FIFO fill, i8042 LEDs, VGA mode, disks, PCI BARs", () => {
  const text = summarizeDevices(boardState()).map((s) => [s.title, ...s.rows].join("\n")).join(
    "\n",
  );
  for (
    const want of [
      "IER 01 IIR c4 LCR 03 MCR 0b",
      "115200 baud 8N1  irq up",
      "FIFO rx 3/16",
      "tx 2 KiB rx 5 B",
      "Num ● Caps ○ Scroll ○",
      "status 15 command 61 queued 2",
      "kbd on set 2 xlat irq1 up",
      "80x25 text (720x400 px)",
      "ide pri mas disk 1 MiB",
      "  read 512 B written 1 KiB",
      "virtio-blk0 1 MiB ro",
      "  read 4 KiB written 0 B",
      "00.0 i440fx 8086:1237",
      "01.1 piix3-ide 8086:7010",
      "02.0 vga 1234:1111",
      "  BAR0 mem32 0xfd000000 16 MiB",
      "  BAR6 rom unmapped 64 KiB",
    ]
  ) ok(text.includes(want), `missing ${JSON.stringify(want)} in\n${text}`);
});

Deno.test("missing or odd fields of the untyped sections do not throw; absent devices read none", () => {
  const s = summarizeDevices({
    ...boardState(),
    pci: { version: 1, configAddress: 0, functions: [] },
    vga: null,
    ide: null,
    virtioBlk: [],
    screen: textScreen(40, 25),
  } as unknown as BoardState);
  strictEqual(s.length, 5);
  strictEqual(s[3].rows[0], "none");
  strictEqual(s[4].rows[0], "none");
});

Deno.test("the Network section shows each NIC's model, MAC, link and traffic", () => {
  const nic = {
    model: "e1000",
    mac: "52:54:00:12:34:56",
    link: true,
    counters: { rxPackets: 4, rxBytes: 2048, txPackets: 5, txBytes: 700, rxDropped: 1 },
  };
  const none = summarizeDevices({ ...boardState(), nics: [] } as BoardState);
  ok(!none.some((s) => s.title === "Network"), "no section without NICs");
  const s = summarizeDevices({ ...boardState(), nics: [nic] } as unknown as BoardState);
  const net = s.find((x) => x.title === "Network");
  ok(net);
  strictEqual(net.rows[0], "net0 e1000 52:54:00:12:34:56 link up");
  strictEqual(net.rows[1], "  rx 4 pkts 2 KiB  tx 5 pkts 700 B  dropped 1");
  const fwd = {
    nic: 0,
    protocol: "tcp",
    hostAddress: "",
    hostPort: 0,
    boundPort: 41022,
    guestAddress: "",
    guestPort: 22,
  } as const;
  const withFwd = summarizeDevices({ ...boardState(), nics: [nic] } as unknown as BoardState, [
    fwd,
    { ...fwd, nic: 1, boundPort: 5555 },
  ]).find((x) => x.title === "Network");
  deepStrictEqual(
    withFwd?.rows.slice(2),
    ["  fwd tcp *:41022 -> guest:22"],
    "NIC 0's forward only",
  );
});

Deno.test("virtio-vga adds its resources and command counts to the VGA section", () => {
  const vga = new VirtioGpuVga({
    memory: new ArrayGuestMemory(1 << 16),
    irq: { set() {} },
    vram: new Uint8Array(1 << 18),
  });
  vga.gpu.counters.commands = 7;
  vga.gpu.counters.errors = 1;
  const section = summarizeDevices({ ...boardState(), vga: vga.stateView() })
    .find((s) => s.title === "VGA");
  ok(section?.rows.includes("virtio-gpu 0 res 0 B  cmds 7 err 1"), JSON.stringify(section));
});
