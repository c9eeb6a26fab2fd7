/**
 * virtio-console (virtio 1.x §5.3) as QEMU's virtio-serial-pci with a
 * virtconsole and one virtserialport: port 0 is the console (Linux's hvc0),
 * port 1 a named port a script talks to. VIRTIO_CONSOLE_F_MULTIPORT brings
 * the control queues; without it only port 0 exists (queues 0 and 1).
 *
 * Queues: 0/1 receive/transmit of port 0, 2/3 control receive/transmit,
 * then 4/5 for port 1. Output goes to an injected sink at once. Input from
 * the host waits in a bounded per-port buffer until the guest has opened
 * the port (with MULTIPORT) and posted receive buffers; {@link receive}
 * takes only what fits, and {@link VirtioConsole.onRxSpace} says when more
 * will, so the host side holds back instead of the device growing.
 *
 * @module
 */

import type { AccessSize, GuestMemory, IrqLine } from "../types.ts";
import { readLanes } from "../byte_lanes.ts";
import { StateShape } from "../state_shape.ts";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  type VirtioDeviceModel,
  type VirtioPciState,
} from "./virtio_pci.ts";
import { VirtioPciFunction } from "./virtio_pci_function.ts";
import type { DescriptorChain, SplitVirtqueue } from "./virtqueue.ts";

/** Virtio device ID of the console. */
export const VIRTIO_ID_CONSOLE = 3;
/** Transitional PCI device ID (the modern one is 0x1040 + 3). */
export const VIRTIO_CONSOLE_PCI_DEVICE_ID = 0x1003;
/** Feature: cols and rows in the configuration are valid (not offered, as in QEMU). */
export const VIRTIO_CONSOLE_F_SIZE = 1n << 0n;
/** Feature: more than one port, and the control queues. */
export const VIRTIO_CONSOLE_F_MULTIPORT = 1n << 1n;
/** Feature: emerg_wr in the configuration writes a byte to port 0. */
export const VIRTIO_CONSOLE_F_EMERG_WRITE = 1n << 2n;

/** Control message events (struct virtio_console_control.event). */
export const VIRTIO_CONSOLE_EVENT = {
  DEVICE_READY: 0,
  /** "PORT_ADD" in older texts. */
  DEVICE_ADD: 1,
  DEVICE_REMOVE: 2,
  PORT_READY: 3,
  CONSOLE_PORT: 4,
  RESIZE: 5,
  PORT_OPEN: 6,
  PORT_NAME: 7,
} as const;

/** Ports: 0 the console, 1 the named port. */
export const VIRTIO_CONSOLE_PORTS = 2;
/** Name of port 1 unless the board gives another (what the guest sees in /dev/virtio-ports/). */
export const VIRTIO_CONSOLE_DEFAULT_PORT_NAME = "org.vmrun.port1";
/** Host input a port holds while the guest is not taking it. */
export const VIRTIO_CONSOLE_INPUT_LIMIT = 64 * 1024;
/** Control messages waiting for receive buffers; more are dropped (and counted). */
export const VIRTIO_CONSOLE_CONTROL_LIMIT = 64;
/** Longest port name, in UTF-8 bytes. */
export const VIRTIO_CONSOLE_NAME_LIMIT = 255;
/** Queue sizes, as QEMU's: 128 for data, 32 for control. */
export const VIRTIO_CONSOLE_QUEUE_SIZES: readonly number[] = [128, 128, 32, 32, 128, 128];
/** Bytes of virtio_console_config: cols, rows, max_nr_ports, emerg_wr. */
export const VIRTIO_CONSOLE_CONFIG_SIZE = 12;

const CONTROL_RX = 2;
const CONTROL_TX = 3;
const CONTROL_HEADER = 8;

/** The receive queue of `port`; its transmit queue is the next one. */
export function consoleRxQueue(port: number): number {
  return port === 0 ? 0 : 2 + 2 * port;
}

/** Constructor options of {@link VirtioConsole}. */
export interface VirtioConsoleOptions {
  /** Guest RAM, for the rings and buffers. */
  readonly memory: GuestMemory;
  /** The function's INTx line. */
  readonly irq: IrqLine;
  /** Receives what the guest transmits on `port`. */
  readonly output: (port: number, bytes: Uint8Array) => void;
  /** Port 1's name; {@link VIRTIO_CONSOLE_DEFAULT_PORT_NAME} when absent. */
  readonly portName?: string;
}

/** One port's saved state. */
export interface VirtioConsolePortState {
  /** The guest sent PORT_READY for it. */
  readonly guestReady: boolean;
  /** The guest has it open (PORT_OPEN 1); needed for input with MULTIPORT. */
  readonly guestOpen: boolean;
  /** Host input not yet in the guest. */
  readonly input: Uint8Array;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * Saved state of a virtio-console function: the transport's, whether the
 * driver said DEVICE_READY, the ports, and control messages the guest has
 * not taken yet. Port names are configuration, not state.
 */
export interface VirtioConsoleState extends VirtioPciState {
  readonly deviceReady: boolean;
  readonly ports: readonly VirtioConsolePortState[];
  /** Control messages waiting for control receive buffers, oldest first. */
  readonly control: readonly Uint8Array[];
  /** Control messages dropped because the guest did not take them. */
  readonly controlDropped: number;
}

interface Port {
  guestReady: boolean;
  guestOpen: boolean;
  input: Uint8Array;
  bytesIn: number;
  bytesOut: number;
}

/** A console and serial-port device on PCI. */
export class VirtioConsole extends VirtioPciFunction<VirtioConsoleState> {
  /** Port names, by port (port 0, the console, has none). */
  readonly portNames: readonly (string | null)[];
  /** Called with a port once it has room for more input after being full or busy. */
  onRxSpace: ((port: number) => void) | null = null;
  readonly #output: (port: number, bytes: Uint8Array) => void;
  readonly #ports: Port[];
  #deviceReady = false;
  #control: Uint8Array[] = [];
  #controlDropped = 0;
  #receiving = false;

  /** @param options guest memory, interrupt line, output sink and port name */
  constructor(options: VirtioConsoleOptions) {
    const name = options.portName ?? VIRTIO_CONSOLE_DEFAULT_PORT_NAME;
    if (new TextEncoder().encode(name).length > VIRTIO_CONSOLE_NAME_LIMIT || name.includes("\0")) {
      throw new RangeError(`port name '${name}' is too long or holds NUL`);
    }
    const model: VirtioDeviceModel = {
      deviceType: VIRTIO_ID_CONSOLE,
      legacyDeviceId: VIRTIO_CONSOLE_PCI_DEVICE_ID,
      classCode: 0x078000, // communication controller, other: as QEMU reports it
      features: VIRTIO_CONSOLE_F_MULTIPORT | VIRTIO_CONSOLE_F_EMERG_WRITE |
        VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX,
      queueSizes: VIRTIO_CONSOLE_QUEUE_SIZES,
      configSize: VIRTIO_CONSOLE_CONFIG_SIZE,
      readConfig: (offset, size) => this.#readConfig(offset, size),
      writeConfig: (offset, size, value) => this.#writeConfig(offset, size, value),
      processQueue: (index, queue, features) => this.#process(index, queue, features),
      reset: () => this.#driverReset(),
    };
    super("virtio-console", model, options);
    this.#output = options.output;
    this.portNames = [null, name];
    this.#ports = Array.from({ length: VIRTIO_CONSOLE_PORTS }, () => ({
      guestReady: false,
      guestOpen: false,
      input: new Uint8Array(0),
      bytesIn: 0,
      bytesOut: 0,
    }));
  }

  /** Bytes of host input `port` can take now. */
  rxSpace(port: number): number {
    const p = this.#ports[port];
    return p ? VIRTIO_CONSOLE_INPUT_LIMIT - p.input.length : 0;
  }

  /**
   * Queues host input for `port` and hands the guest what it can take now.
   * @returns how many bytes were taken (the rest does not fit: wait for {@link onRxSpace})
   */
  receive(port: number, bytes: Uint8Array): number {
    const p = this.#ports[port];
    if (!p) return 0;
    const n = Math.min(bytes.length, this.rxSpace(port));
    if (n === 0) return 0;
    p.input = concat(p.input, bytes.subarray(0, n));
    // The caller learns of freed room from rxSpace(); no onRxSpace re-entry.
    this.#receiving = true;
    try {
      this.transport.notify(consoleRxQueue(port));
    } finally {
      this.#receiving = false;
    }
    return n;
  }

  /** Ports and waiting control messages. */
  protected deviceSnapshot(): Omit<VirtioConsoleState, keyof VirtioPciState> {
    return {
      deviceReady: this.#deviceReady,
      ports: this.#ports.map((p) => ({ ...p, input: p.input.slice() })),
      control: this.#control.map((m) => m.slice()),
      controlDropped: this.#controlDropped,
    };
  }

  /** Checks the ports and waiting control messages. */
  protected readState(s: StateShape): () => void {
    const deviceReady = s.bool("deviceReady");
    const max = Number.MAX_SAFE_INTEGER;
    const ports = s.array("ports", VIRTIO_CONSOLE_PORTS).map((raw, i): Port => {
      const p = new StateShape(this.name, raw, `state.ports[${i}]`);
      const input = p.bytes("input");
      if (input.length > VIRTIO_CONSOLE_INPUT_LIMIT) p.fail("input", "is over the limit");
      return {
        guestReady: p.bool("guestReady"),
        guestOpen: p.bool("guestOpen"),
        input,
        bytesIn: p.int("bytesIn", 0, max),
        bytesOut: p.int("bytesOut", 0, max),
      };
    });
    const rawControl = s.array("control");
    if (rawControl.length > VIRTIO_CONSOLE_CONTROL_LIMIT) {
      s.fail("control", "has too many messages");
    }
    const control = rawControl.map((m, i) => {
      const longest = CONTROL_HEADER + VIRTIO_CONSOLE_NAME_LIMIT + 1;
      if (!(m instanceof Uint8Array) || m.length < CONTROL_HEADER || m.length > longest) {
        s.fail(`control[${i}]`, "must be a control message");
      }
      return (m as Uint8Array).slice();
    });
    const controlDropped = s.int("controlDropped", 0, max);
    return () => {
      this.#deviceReady = deviceReady;
      ports.forEach((p, i) => Object.assign(this.#ports[i], p));
      this.#control = control;
      this.#controlDropped = controlDropped;
    };
  }

  #readConfig(offset: number, size: AccessSize): number {
    // cols and rows stay 0 (VIRTIO_CONSOLE_F_SIZE is not offered); emerg_wr reads 0.
    return readLanes(offset, size, (at) => (at === 4 ? VIRTIO_CONSOLE_PORTS : 0));
  }

  #writeConfig(offset: number, _size: AccessSize, value: number): void {
    // emerg_wr: one byte to port 0, whether or not the port is set up (§5.3.6.2).
    if (offset !== 8) return;
    this.#ports[0].bytesOut++;
    this.#output(0, Uint8Array.of(value & 0xff));
  }

  #driverReset(): void {
    // Host input survives a driver reset; what the driver set up does not.
    this.#deviceReady = false;
    for (const p of this.#ports) p.guestReady = p.guestOpen = false;
    this.#control = [];
  }

  #process(index: number, queue: SplitVirtqueue, features: bigint): boolean {
    const multiport = (features & VIRTIO_CONSOLE_F_MULTIPORT) !== 0n;
    if (index === CONTROL_RX) return multiport && this.#flushControl(queue);
    if (index === CONTROL_TX) {
      if (!multiport) return false;
      const opened: number[] = [];
      const irq = queue.drain((chain) => {
        this.#controlMessage(chain, opened);
        return 0;
      });
      // After the drain: these run their own queues' processing.
      if (this.#control.length) this.transport.notify(CONTROL_RX);
      for (const port of opened) this.transport.notify(consoleRxQueue(port));
      return irq;
    }
    const port = index < 2 ? 0 : (index - 2) >> 1;
    if (port >= VIRTIO_CONSOLE_PORTS || (port > 0 && !multiport)) return false;
    const p = this.#ports[port];
    if (index === consoleRxQueue(port)) {
      if (multiport && !p.guestOpen) return false;
      return this.#deliverInput(port, queue);
    }
    return queue.drain((chain) => {
      const bytes = gather(chain.readable, chain.readableLength);
      if (bytes.length) {
        p.bytesOut += bytes.length;
        this.#output(port, bytes);
      }
      return 0;
    });
  }

  /** Fills receive buffers with waiting input; never takes a buffer it cannot fill. */
  #deliverInput(port: number, queue: SplitVirtqueue): boolean {
    const p = this.#ports[port];
    if (p.input.length === 0) return false;
    const before = queue.usedIdx;
    let taken = 0;
    while (taken < p.input.length && queue.pending() > 0) {
      const chain = queue.pop()!;
      const n = scatter(chain.writable, p.input.subarray(taken));
      queue.push(chain.head, n);
      taken += n;
      // A chain without writable room would otherwise spin through the ring.
      if (n === 0) break;
    }
    queue.suppressNotifications(false);
    if (taken === 0) return false;
    p.input = p.input.slice(taken);
    p.bytesIn += taken;
    const irq = queue.needsInterrupt(before);
    if (!this.#receiving) this.onRxSpace?.(port);
    return irq;
  }

  #flushControl(queue: SplitVirtqueue): boolean {
    const before = queue.usedIdx;
    while (this.#control.length && queue.pending() > 0) {
      const chain = queue.pop()!;
      queue.push(chain.head, scatter(chain.writable, this.#control.shift()!));
    }
    queue.suppressNotifications(false);
    return queue.needsInterrupt(before);
  }

  #controlMessage(chain: DescriptorChain, opened: number[]): void {
    if (chain.readableLength < CONTROL_HEADER) return; // QEMU ignores short messages too
    const m = new DataView(gather(chain.readable, CONTROL_HEADER).buffer);
    const id = m.getUint32(0, true);
    const event = m.getUint16(4, true);
    const value = m.getUint16(6, true);
    const E = VIRTIO_CONSOLE_EVENT;
    if (event === E.DEVICE_READY) {
      if (value !== 1) return; // the driver failed to set the device up
      this.#deviceReady = true;
      for (let i = 0; i < VIRTIO_CONSOLE_PORTS; i++) this.#send(i, E.DEVICE_ADD, 1);
      return;
    }
    const p = this.#ports[id];
    if (!p) return;
    if (event === E.PORT_READY) {
      if (value !== 1) return;
      p.guestReady = true;
      if (id === 0) this.#send(id, E.CONSOLE_PORT, 1);
      const name = this.portNames[id];
      if (name !== null) this.#send(id, E.PORT_NAME, 1, new TextEncoder().encode(name + "\0"));
      // The host side of every port is always connected.
      this.#send(id, E.PORT_OPEN, 1);
    } else if (event === E.PORT_OPEN) {
      p.guestOpen = value !== 0;
      if (p.guestOpen && p.input.length) opened.push(id);
    }
  }

  #send(id: number, event: number, value: number, payload?: Uint8Array): void {
    if (this.#control.length >= VIRTIO_CONSOLE_CONTROL_LIMIT) {
      this.#controlDropped++;
      return;
    }
    const m = new Uint8Array(CONTROL_HEADER + (payload?.length ?? 0));
    const v = new DataView(m.buffer);
    v.setUint32(0, id, true);
    v.setUint16(4, event, true);
    v.setUint16(6, value, true);
    if (payload) m.set(payload, CONTROL_HEADER);
    this.#control.push(m);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Copies the first `length` bytes of a buffer list. */
function gather(buffers: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const b of buffers) {
    const n = Math.min(b.length, length - at);
    out.set(b.subarray(0, n), at);
    at += n;
    if (at >= length) break;
  }
  return out;
}

/** Copies `data` into a buffer list as far as it fits; returns the bytes copied. */
function scatter(buffers: readonly Uint8Array[], data: Uint8Array): number {
  let at = 0;
  for (const b of buffers) {
    if (at >= data.length) break;
    const n = Math.min(b.length, data.length - at);
    b.set(data.subarray(at, at + n));
    at += n;
  }
  return at;
}
