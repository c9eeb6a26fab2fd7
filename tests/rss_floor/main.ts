/**
 * The memory floor of vmrun's required runtime, for the boot benchmark: what
 * a Deno process costs that does only what vmrun cannot do without. It parses
 * its command line with commander (the CLI library vmrun is built on, which
 * brings Deno's Node compatibility layer), then starts one worker that opens
 * /dev/kvm, creates a VM with 128 MiB of guest RAM and a vCPU, and exits
 * without running any guest or loading any device.
 *
 *   deno run -A tests/rss_floor/main.ts -m 128M --headless image.img
 *
 * Its peak RSS, against QEMU's, bounds from below what any vmrun can reach.
 *
 * @module
 */

import { Command } from "../../deps/commander.ts";

const program = new Command()
  .option("-m, --memory <size>", "guest RAM", "128M")
  .option("--headless")
  .argument("[image]")
  .parse(Deno.args, { from: "user" });
const mib = parseInt(program.opts().memory, 10);

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
worker.onmessage = (e: MessageEvent<string>) => {
  console.log(e.data);
  worker.terminate();
};
worker.postMessage(mib);
