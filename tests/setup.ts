/**
 * Makes sure the tools vmrun's tests, demo and benchmarks need are there,
 * installing Debian packages when apt-get is available and we are root,
 * then builds the fixture guests.
 *
 *   deno run -A tests/setup.ts            # demo: seabios (it boots the demo), nasm, xorriso
 *   deno run -A tests/setup.ts --test     # tests: and qemu-system-x86, tmux, zsh, fish, acpica-tools
 *
 * @module
 */

import { buildFixtures } from "../fixtures/build.ts";

interface Need {
  /** Debian package. */
  readonly pkg: string;
  /** A file whose presence means the package is installed. */
  readonly file: string;
}

const NASM: Need = { pkg: "nasm", file: "/usr/bin/nasm" };
const SEABIOS: Need = { pkg: "seabios", file: "/usr/share/seabios/bios.bin" };
const QEMU: Need = { pkg: "qemu-system-x86", file: "/usr/bin/qemu-system-x86_64" };
const TMUX: Need = { pkg: "tmux", file: "/usr/bin/tmux" };
const XORRISO: Need = { pkg: "xorriso", file: "/usr/bin/xorriso" };
const ZSH: Need = { pkg: "zsh", file: "/usr/bin/zsh" }; // completion script tests
const LIBSLIRP: Need = { pkg: "libslirp0", file: "/usr/lib/x86_64-linux-gnu/libslirp.so.0" };
const LIBSLIRP_DEV: Need = { pkg: "libslirp-dev", file: "/usr/include/slirp/libslirp.h" }; // layout test
const IPXE: Need = { pkg: "ipxe-qemu", file: "/usr/lib/ipxe/qemu/efi-e1000.rom" };
const FISH: Need = { pkg: "fish", file: "/usr/bin/fish" }; // completion script tests
const ACPICA: Need = { pkg: "acpica-tools", file: "/usr/bin/iasl" }; // iasl -d of the tables
const LZ4: Need = { pkg: "lz4", file: "/usr/bin/lz4" }; // the Debian kernel's payload
const DMIDECODE: Need = { pkg: "dmidecode", file: "/usr/sbin/dmidecode" }; // decodes the SMBIOS tables

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<boolean> {
  const r = await new Deno.Command(cmd, {
    args,
    stdout: "null",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  return r.success;
}

/** Installs what is missing; returns the packages still missing. */
async function ensure(needs: Need[]): Promise<string[]> {
  const missing = needs.filter((n) => !exists(n.file)).map((n) => n.pkg);
  if (missing.length === 0) return [];
  const canApt = exists("/usr/bin/apt-get") && Deno.uid() === 0;
  if (canApt) {
    console.error(`setup: installing ${missing.join(" ")} with apt-get`);
    if (!await run("apt-get", ["install", "-y", "-q", ...missing])) {
      await run("apt-get", ["update", "-q"]);
      await run("apt-get", ["install", "-y", "-q", ...missing]);
    }
  }
  return needs.filter((n) => !exists(n.file)).map((n) => n.pkg);
}

const forTests = Deno.args.includes("--test");
// The demo boots SeaBIOS; the fixtures need nasm and xorriso (the CD images).
const needs = forTests
  ? [
    NASM,
    SEABIOS,
    QEMU,
    XORRISO,
    TMUX,
    ZSH,
    FISH,
    ACPICA,
    LZ4,
    DMIDECODE,
    LIBSLIRP,
    LIBSLIRP_DEV,
    IPXE,
  ]
  : [NASM, SEABIOS, XORRISO];
const missing = await ensure(needs);
if (missing.length) {
  console.error(
    `setup: vmrun needs ${missing.join(", ")}: install with 'sudo apt-get install ${
      missing.join(" ")
    }'`,
  );
  Deno.exit(1);
}
await buildFixtures();
