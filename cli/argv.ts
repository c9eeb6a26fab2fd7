/**
 * vmrun's arguments as the user typed them. `Deno.args` turns bytes that
 * are not UTF-8 into U+FFFD, losing the path of an image named so; the
 * kernel still has them in /proc/self/cmdline. Such arguments are taken
 * from there, each byte that is not UTF-8 kept as an escape (see
 * machine/host_path.ts) that file names can be opened by and messages show
 * as `\xHH`.
 *
 * @module
 */

import { decodePathBytes } from "../machine/host_path.ts";

/**
 * The script's arguments: `args` itself, unless an argument holds U+FFFD,
 * then the last `args.length` entries of `cmdline` (NUL-separated), decoded
 * with escapes, when they agree with `args`.
 */
export function recoverArgs(args: readonly string[], cmdline: Uint8Array | null): string[] {
  if (!args.some((a) => a.includes("\ufffd")) || cmdline === null) return [...args];
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < cmdline.length; i++) {
    if (cmdline[i] === 0) {
      parts.push(cmdline.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < cmdline.length) parts.push(cmdline.subarray(start));
  if (parts.length < args.length) return [...args];
  const tail = parts.slice(parts.length - args.length);
  const lossy = new TextDecoder();
  // Each must read as Deno's argument when decoded the lossy way; else the layout is not ours.
  if (tail.some((p, i) => lossy.decode(p) !== args[i])) return [...args];
  return tail.map((p) => decodePathBytes(p));
}

/** This process's arguments, with bytes that are not UTF-8 kept. */
export function processArgs(): string[] {
  let cmdline: Uint8Array | null = null;
  if (Deno.args.some((a) => a.includes("\ufffd"))) {
    try {
      cmdline = Deno.readFileSync("/proc/self/cmdline");
    } catch {
      // No procfs: the lossy arguments are all there is.
    }
  }
  return recoverArgs(Deno.args, cmdline);
}
