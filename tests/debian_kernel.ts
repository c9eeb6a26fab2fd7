/**
 * A real Debian kernel for the Linux boot tests, fetched with apt and kept
 * in a cache under /tmp (never in the repository): the current
 * linux-image-cloud-amd64's package is downloaded (`apt-get download`),
 * unpacked (`dpkg-deb -x`), and its bzImage's payload decompressed into the
 * ELF vmlinux, whose PVH entry note lets it start without the
 * decompressor (which alone takes minutes on a host whose KVM emulates
 * guest ring-0 code).
 *
 * @module
 */

import { join } from "node:path";

/** Where kernels are cached between runs. */
const CACHE = "/tmp/vmrun-debian-kernel";

/** A Debian kernel, unpacked. */
export interface DebianKernel {
  /** The package, e.g. linux-image-6.1.0-50-cloud-amd64. */
  readonly pkg: string;
  /** The bzImage as installed in /boot. */
  readonly bzImage: string;
  /** The decompressed ELF vmlinux (with the PVH note). */
  readonly vmlinux: string;
}

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(r.stderr).trim() || r.code}`);
  }
  return dec.decode(r.stdout);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Compressors by the magic their output starts with (the bzImage payload). */
const DECOMPRESSORS: readonly { magic: number[]; cmd: string }[] = [
  { magic: [0x02, 0x21, 0x4c, 0x18], cmd: "lz4" }, // LZ4 legacy frame
  { magic: [0x28, 0xb5, 0x2f, 0xfd], cmd: "zstd" },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], cmd: "xz" },
  { magic: [0x1f, 0x8b], cmd: "gzip" },
];

/**
 * The compressed kernel inside a bzImage: the setup header's payload_offset
 * and payload_length (boot protocol 2.08+), after the setup sectors.
 */
export function bzImagePayload(image: Uint8Array): { bytes: Uint8Array; cmd: string } {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (view.getUint32(0x202, true) !== 0x53726448) throw new Error("not a bzImage (no HdrS)");
  const setupSects = image[0x1f1] || 4;
  const start = (setupSects + 1) * 512 + view.getUint32(0x248, true);
  const bytes = image.subarray(start, start + view.getUint32(0x24c, true));
  const d = DECOMPRESSORS.find((c) => c.magic.every((b, i) => bytes[i] === b));
  if (!d) throw new Error(`unknown kernel compression (payload starts ${bytes.subarray(0, 6)})`);
  return { bytes, cmd: d.cmd };
}

/** Decompresses `bytes` with `cmd -dc`. */
async function decompress(cmd: string, bytes: Uint8Array, out: string): Promise<void> {
  const child = new Deno.Command(cmd, {
    args: ["-dc"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writing = (async () => {
    const w = child.stdin.getWriter();
    await w.write(bytes);
    await w.close();
  })();
  const [r] = await Promise.all([child.output(), writing]);
  // lz4 and gzip may complain about what follows the stream; the output is what counts.
  if (r.stdout.length < 1 << 20) {
    throw new Error(`${cmd} -dc: ${new TextDecoder().decode(r.stderr).trim()}`);
  }
  await Deno.writeFile(out, r.stdout);
}

/**
 * The current linux-image-cloud-amd64 kernel, from the cache or fetched.
 * @throws {Error} when apt cannot name or download it, or it cannot be unpacked
 */
export async function debianCloudKernel(): Promise<DebianKernel> {
  const depends = await run("apt-cache", ["depends", "linux-image-cloud-amd64"]);
  const pkg = /Depends:\s*(linux-image-\S+)/.exec(depends)?.[1];
  if (!pkg) throw new Error(`apt-cache names no kernel for linux-image-cloud-amd64: ${depends}`);
  const dir = join(CACHE, pkg);
  const version = pkg.replace(/^linux-image-/, "");
  const bzImage = join(dir, "root", "boot", `vmlinuz-${version}`);
  const vmlinux = join(dir, "vmlinux");
  if (exists(vmlinux)) return { pkg, bzImage, vmlinux };
  Deno.mkdirSync(dir, { recursive: true });
  if (!exists(bzImage)) {
    await run("apt-get", ["download", "-q", pkg], dir);
    const deb = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}`);
    await run("dpkg-deb", ["-x", join(dir, deb.name), join(dir, "root")]);
    Deno.removeSync(join(dir, deb.name));
  }
  const { bytes, cmd } = bzImagePayload(Deno.readFileSync(bzImage));
  const partial = `${vmlinux}.part`;
  await decompress(cmd, bytes, partial);
  Deno.renameSync(partial, vmlinux);
  return { pkg, bzImage, vmlinux };
}

/**
 * The early-log runs' machine, shared by the test and the benchmark: what
 * QEMU and vmrun are both given.
 */
export const EARLY_LOG = {
  /** `clearcpuid=` keeps the kernel off instructions this host's KVM cannot run. */
  cmdline: "console=ttyS0 earlyprintk=ttyS0 clearcpuid=cx16,xsave,smap,popcnt",
  memoryMiB: 256,
  cpus: 2,
} as const;

/**
 * A temporary initrd for the early-log runs: any bytes do, the kernel only
 * reserves them this early. The caller removes it.
 */
export async function earlyLogInitrd(prefix: string): Promise<string> {
  const initrd = await Deno.makeTempFile({ prefix });
  await Deno.writeFile(initrd, Uint8Array.from({ length: 3 * 65536 + 123 }, (_, i) => i * 7));
  return initrd;
}

/** QEMU's arguments (beside its memory) that boot `vmlinux` as EARLY_LOG says. */
export function qemuEarlyLogArgs(vmlinux: string, initrd: string): string[] {
  return [
    "-cpu",
    "host,-arch-capabilities",
    "-smp",
    String(EARLY_LOG.cpus),
    "-kernel",
    vmlinux,
    "-initrd",
    initrd,
    "-append",
    EARLY_LOG.cmdline,
  ];
}

/** vmrun's arguments that boot `vmlinux` as EARLY_LOG says, ending at `exitOn` or the guard. */
export function vmrunEarlyLogArgs(
  vmlinux: string,
  initrd: string,
  exitOn: string,
  guardMs: number,
): string[] {
  return [
    "--headless",
    "--firmware",
    "none",
    "--memory",
    `${EARLY_LOG.memoryMiB}M`,
    "--cpus",
    String(EARLY_LOG.cpus),
    "--kernel",
    vmlinux,
    "--initrd",
    initrd,
    "--append",
    EARLY_LOG.cmdline,
    "--exit-on",
    exitOn,
    "--timeout",
    String(guardMs / 1000),
  ];
}
