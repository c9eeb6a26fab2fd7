/**
 * The real terminal for {@link probeTerminal}: queries on stdout, replies
 * from stdin in raw mode, and the window's pixel size from TIOCGWINSZ for
 * terminals that do not answer `CSI 16 t`.
 *
 * Use before the console starts reading stdin, and pass later input through
 * a {@link TerminalReplyFilter}: a reply that arrives after the probe gave
 * up is then still kept from the guest.
 *
 * @module
 */

import type { ProbeIo } from "./capabilities.ts";

/** A {@link ProbeIo} over Deno's stdin and stdout, and its undoing. */
export interface StdinProbe {
  readonly io: ProbeIo;
  /** Stops reading and leaves raw mode; stdin is free for the console. */
  close(): void;
}

/** Opens stdin in raw mode for probing. */
export function stdinProbe(): StdinProbe {
  Deno.stdin.setRaw(true);
  const reader = Deno.stdin.readable.getReader();
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  const encoder = new TextEncoder();
  const io: ProbeIo = {
    write(text) {
      const bytes = encoder.encode(text);
      let off = 0;
      while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
    },
    async read(ms) {
      pending ??= reader.read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms));
      const r = await Promise.race([pending, timeout]);
      clearTimeout(timer);
      if (r === null) return null;
      pending = null;
      return r.done ? null : r.value;
    },
  };
  return {
    io,
    close() {
      // A read still pending gives its bytes to the next reader of stdin.
      pending?.catch(() => {});
      reader.releaseLock();
      try {
        Deno.stdin.setRaw(false);
      } catch {
        // Not a terminal any more; nothing to restore.
      }
    },
  };
}

const TIOCGWINSZ = 0x5413;
let ioctlLib:
  | Deno.DynamicLibrary<{
    ioctl: { parameters: ["i32", "u64", "buffer"]; result: "i32" };
  }>
  | null = null;

/**
 * The terminal's size in cells and pixels from TIOCGWINSZ on stdout; the
 * pixels are 0 where the terminal does not report them. Null when stdout
 * is not a terminal.
 */
export function windowSize(): { cols: number; rows: number; width: number; height: number } | null {
  try {
    ioctlLib ??= Deno.dlopen("libc.so.6", {
      ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
    });
    const ws = new Uint16Array(4);
    if (ioctlLib.symbols.ioctl(1, BigInt(TIOCGWINSZ), new Uint8Array(ws.buffer)) < 0) return null;
    return { rows: ws[0], cols: ws[1], width: ws[2], height: ws[3] };
  } catch {
    return null;
  }
}

/** Pixels of one cell from TIOCGWINSZ, or null when the terminal does not say. */
export function cellSizeFromWindow(): { width: number; height: number } | null {
  const ws = windowSize();
  if (!ws || !ws.width || !ws.height || !ws.cols || !ws.rows) return null;
  return { width: Math.floor(ws.width / ws.cols), height: Math.floor(ws.height / ws.rows) };
}
