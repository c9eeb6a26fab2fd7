/**
 * A host UDP socket on 127.0.0.1 for tests and benchmarks that talk to the
 * network fixtures' UDP services (fixtures/src/net.inc) through hostfwd:
 * send, wait for the next datagram, and request/reply with resends.
 *
 * @module
 */

import dgram from "node:dgram";
import { Buffer } from "node:buffer";

/** One bound UDP socket with a queue of what it received. */
export class UdpProbe {
  readonly #sock: dgram.Socket;
  readonly #queue: Uint8Array[] = [];
  #waiter: (() => void) | null = null;
  /** Datagrams received in all. */
  received = 0;

  private constructor(sock: dgram.Socket) {
    this.#sock = sock;
    sock.on("message", (m: Buffer) => {
      this.received++;
      this.#queue.push(new Uint8Array(m));
      // A flood nobody reads stays bounded.
      if (this.#queue.length > 100_000) this.#queue.shift();
      this.#waiter?.();
    });
  }

  /** Binds a socket on 127.0.0.1 (any port). */
  static async open(): Promise<UdpProbe> {
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
    return new UdpProbe(sock);
  }

  /** Sends `payload` to 127.0.0.1:`port`. */
  send(port: number, payload: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#sock.send(payload, port, "127.0.0.1", (e) => e ? reject(e) : resolve())
    );
  }

  /** The next datagram, or null after `timeoutMs`. */
  async next(timeoutMs: number): Promise<Uint8Array | null> {
    const deadline = performance.now() + timeoutMs;
    while (this.#queue.length === 0) {
      const left = deadline - performance.now();
      if (left <= 0) return null;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#waiter = null;
    }
    return this.#queue.shift()!;
  }

  /** Drops what is queued. */
  clear(): void {
    this.#queue.length = 0;
  }

  /**
   * Sends `payload` and waits for a reply that `accept` takes, sending again
   * every `resendMs` (the first datagram may meet a guest not yet known by
   * ARP); throws after `tries` sends.
   */
  async exchange(
    port: number,
    payload: Uint8Array,
    accept: (reply: Uint8Array) => boolean = () => true,
    { resendMs = 1_000, tries = 10 } = {},
  ): Promise<Uint8Array> {
    for (let i = 0; i < tries; i++) {
      await this.send(port, payload);
      const until = performance.now() + resendMs;
      for (let left = resendMs; left > 0; left = until - performance.now()) {
        const reply = await this.next(left);
        if (reply && accept(reply)) return reply;
      }
    }
    throw new Error(`no reply from UDP port ${port} after ${tries} sends`);
  }

  /** Closes the socket. */
  close(): Promise<void> {
    return new Promise((resolve) => this.#sock.close(() => resolve()));
  }
}

/** A payload of `size` bytes whose first 4 are `n` (little-endian). */
export function numbered(n: number, size: number): Uint8Array {
  const p = new Uint8Array(Math.max(4, size));
  new DataView(p.buffer).setUint32(0, n >>> 0, true);
  for (let i = 4; i < p.length; i++) p[i] = i & 0xff;
  return p;
}

/** The first 4 bytes of `p`, little-endian. */
export function numberOf(p: Uint8Array): number {
  return p.length < 4 ? -1 : new DataView(p.buffer, p.byteOffset).getUint32(0, true);
}
