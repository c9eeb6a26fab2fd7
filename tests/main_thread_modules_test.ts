/**
 * The main thread of a headless run loads no device models (issue 11: each
 * isolate pays for the code it loads, and the vCPU worker, which builds the
 * board, loads them anyway). The main thread checks options against the
 * registries' metadata (machine/optional_devices.ts, vga_models.ts,
 * io_map.ts); the constructors live in modules only the board imports.
 *
 * The graph is Deno's own (`deno info --json`): the static imports of
 * cli/main.ts and of every module it loads on demand, the console's
 * (tui_runner.ts) aside. Type-only imports load nothing and are not
 * followed. The vCPU worker's own start-up graph leaves out the models only
 * some boards have (machine/device_modules.ts loads them).
 *
 * @module
 */

import { deepStrictEqual, ok } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/**
 * The only modules under devices/ the main thread may load, each pure and
 * small, and why it needs them.
 */
export const MAIN_THREAD_DEVICE_MODULES = [
  // sendkey and scripted key steps turn names into scan codes before they reach the worker.
  "devices/keymap.ts",
  // The WAV sink writes at the devices' sample rate.
  "devices/audio.ts",
  // Balloon targets and the --device help count in the balloon's units.
  "devices/virtio/virtio_balloon_units.ts",
  // The network thread's side of virtio-net's receive queue lease, and what it reads.
  "devices/net/virtio_net_rx.ts",
  "devices/virtio/virtqueue.ts",
  "devices/net/nic.ts",
  "devices/types.ts",
  "devices/state_shape.ts",
] as const;

/** What cli/main.ts loads on demand (`load("...")`), relative to the checkout. */
function onDemand(): string[] {
  const main = Deno.readTextFileSync(new URL("cli/main.ts", ROOT));
  return [...main.matchAll(/\bload<[^>]*>\(\s*"([^"]+)"/gs)]
    .map((m) => new URL(m[1], new URL("cli/main.ts", ROOT)).href.slice(ROOT.href.length));
}

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly {
    readonly code?: { readonly specifier: string };
    readonly isDynamic?: boolean;
  }[];
}

/** The modules `roots` load through static imports, relative to the checkout (local ones only). */
async function staticGraph(roots: readonly string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const root of roots) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, root],
      cwd: new URL(".", ROOT).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    ok(out.success, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      roots: string[];
      modules: InfoModule[];
    };
    const deps = new Map(info.modules.map((m) => [
      m.specifier,
      (m.dependencies ?? []).filter((d) => d.code && !d.isDynamic).map((d) => d.code!.specifier),
    ]));
    const queue = [...info.roots];
    const reached = new Set(queue);
    while (queue.length) {
      for (const d of deps.get(queue.shift()!) ?? []) {
        if (!reached.has(d)) reached.add(d), queue.push(d);
      }
    }
    for (const s of reached) {
      if (s.startsWith(ROOT.href)) seen.add(s.slice(ROOT.href.length));
    }
  }
  return seen;
}

Deno.test("cli/main.ts loads the parser, the session core and the headless runner on demand", () => {
  const loads = onDemand();
  for (const m of ["cli/program.ts", "machine/session.ts", "cli/headless.ts"]) {
    ok(loads.includes(m), `${m} in ${loads.join(", ")}`);
  }
});

Deno.test("the main thread of a headless run loads only the pure device modules it needs", async () => {
  const roots = ["cli/main.ts", ...onDemand().filter((m) => m !== "cli/tui_runner.ts")];
  const graph = await staticGraph(roots);
  ok(graph.has("machine/options.ts"), "the graph reaches the option checks");
  const devices = [...graph].filter((m) => m.startsWith("devices/")).sort();
  const allowed = new Set<string>(MAIN_THREAD_DEVICE_MODULES);
  deepStrictEqual(devices.filter((m) => !allowed.has(m)), [], "device modules on the main thread");
  for (
    const m of [
      "machine/pc_devices.ts",
      "machine/optional_device_entries.ts",
      "machine/board.ts",
      "machine/linux_boot.ts",
    ]
  ) {
    ok(!graph.has(m), `${m} is the board's, loaded on the main thread`);
  }
});

Deno.test("the check sees device modules: the board's own graph has them", async () => {
  const graph = await staticGraph(["machine/board.ts"]);
  ok(graph.has("devices/uart_16550a.ts") && graph.has("devices/vga/vga_pci.ts"), [...graph].join());
});

Deno.test("the vCPU worker loads other display cards, virtio disks, NICs, optional devices, --kernel on demand", async () => {
  const graph = await staticGraph(["machine/vcpu_worker.ts"]);
  ok(graph.has("devices/vga/vga_pci.ts") && graph.has("machine/device_modules.ts"));
  const onDemand = [
    "devices/vga/cirrus.ts",
    "devices/virtio/virtio_gpu_vga.ts",
    "devices/vga/no_vga.ts",
    "devices/virtio/virtio_blk.ts",
    "devices/net/e1000.ts",
    "devices/net/virtio_net.ts",
    "devices/net/rtl8139.ts",
    "devices/net/ne2k_pci.ts",
    "machine/optional_device_entries.ts",
    "devices/sb16.ts",
    "devices/watchdog/i6300esb.ts",
    "devices/virtio/virtio_console.ts",
    "machine/linux_boot.ts",
    "machine/net_link.ts",
  ];
  deepStrictEqual(onDemand.filter((m) => graph.has(m)), [], "loaded at the worker's start");
});
