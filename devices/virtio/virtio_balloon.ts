/**
 * virtio-balloon, the traditional memory balloon (virtio 1.x §5.5), on the
 * transitional PCI transport as QEMU's virtio-balloon-pci: the host asks for
 * `num_pages` 4 KiB pages, the driver hands page frame numbers over on the
 * inflate queue (the host may then drop what backs them) and takes them back
 * on the deflate queue, writes how many it holds to `actual`, and, with
 * VIRTIO_BALLOON_F_STATS_VQ, reports memory statistics on the stats queue
 * each time the device hands its buffer back.
 *
 * What happens to the memory is injected: `discard` for inflated runs of
 * pages, `reuse` for deflated ones, so the device stays pure. The stats
 * interval runs on the injected clock.
 *
 * @module
 */

import {
  type Clock,
  type GuestMemory,
  GuestMemoryError,
  type IrqLine,
  type TimedOptions,
  type Timer,
} from "../types.ts";
import type { StateShape } from "../state_shape.ts";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_STATUS_DRIVER_OK,
  type VirtioDeviceModel,
  type VirtioPciState,
} from "./virtio_pci.ts";
import { VirtioPciFunction } from "./virtio_pci_function.ts";
import { type DescriptorChain, type SplitVirtqueue, VirtqueueError } from "./virtqueue.ts";
import { DEFAULT_STATS_INTERVAL_NS, VIRTIO_BALLOON_PAGE_SIZE } from "./virtio_balloon_units.ts";

export { DEFAULT_STATS_INTERVAL_NS, VIRTIO_BALLOON_PAGE_SIZE };

/** Virtio device ID of the memory balloon. */
export const VIRTIO_ID_BALLOON = 5;
/** Transitional PCI device ID (the modern one is 0x1040 + 5). */
export const VIRTIO_BALLOON_PCI_DEVICE_ID = 0x1002;
/** Feature: the driver tells the host before it uses deflated pages (QEMU does not offer it). */
export const VIRTIO_BALLOON_F_MUST_TELL_HOST = 1n << 0n;
/** Feature: the stats queue (QEMU offers it always). */
export const VIRTIO_BALLOON_F_STATS_VQ = 1n << 1n;
/** Feature: the driver may deflate on its own when the guest runs out of memory. */
export const VIRTIO_BALLOON_F_DEFLATE_ON_OOM = 1n << 2n;
/** Feature: the driver says which value poisons its free pages (QEMU's page-poison=on default). */
export const VIRTIO_BALLOON_F_PAGE_POISON = 1n << 4n;
/** Entries in each queue (QEMU's size). */
export const VIRTIO_BALLOON_QUEUE_SIZE = 128;
/** Queue indices. */
export const BALLOON_QUEUE = { inflate: 0, deflate: 1, stats: 2 } as const;
/** Bytes of device configuration with PAGE_POISON offered: num_pages, actual, cmd id, poison_val. */
export const VIRTIO_BALLOON_CONFIG_SIZE = 16;
/** Bytes of one stats entry: le16 tag, le64 value. */
export const VIRTIO_BALLOON_STAT_SIZE = 10;
/** Stats bytes read from one report (a driver may send every tag a few times over). */
const MAX_STATS_BYTES = 64 * VIRTIO_BALLOON_STAT_SIZE;

/** The statistics the driver reports, by tag, in the names QEMU's guest-stats uses. */
export const BALLOON_STAT_TAGS = [
  "swapIn", // bytes swapped in
  "swapOut", // bytes swapped out
  "majorFaults",
  "minorFaults",
  "freeMemory", // bytes
  "totalMemory", // bytes
  "availableMemory", // bytes
  "diskCaches", // bytes
  "hugetlbAllocations",
  "hugetlbFailures",
] as const;

/** The name of a balloon statistic. */
export type BalloonStatName = typeof BALLOON_STAT_TAGS[number];

/** The driver's last statistics; a value it did not report is null. */
export type BalloonStats = { readonly [K in BalloonStatName]: number | null };

/** Called with a run of `count` contiguous balloon pages from page frame `pfn`. */
export type PageRunHandler = (pfn: number, count: number) => void;

/** Constructor options of {@link VirtioBalloon}. */
export interface VirtioBalloonOptions extends TimedOptions {
  /** Guest RAM, for the rings and the PFN arrays. */
  readonly memory: GuestMemory;
  /** The function's INTx line. */
  readonly irq: IrqLine;
  /** Inflated pages: the guest gave them up; the host may drop what backs them. */
  readonly discard: PageRunHandler;
  /** Deflated pages: the guest takes them back. */
  readonly reuse: PageRunHandler;
  /** Offer VIRTIO_BALLOON_F_DEFLATE_ON_OOM (QEMU's deflate-on-oom, off by default). */
  readonly deflateOnOom?: boolean;
  /** How often the driver's stats buffer is handed back for fresh figures; 0 never. */
  readonly statsIntervalNs?: number;
}

/** What went through the queues, for the devices pane. */
export interface VirtioBalloonCounters {
  /** Pages the driver put in the balloon. */
  inflated: number;
  /** Pages it took back. */
  deflated: number;
  /** Stats reports received. */
  statsReports: number;
}

/**
 * Saved state of a virtio-balloon function: the transport's, the
 * configuration fields, the stats buffer the device holds (its head
 * descriptor) and when it is handed back, the last stats and the counters.
 */
export interface VirtioBalloonState extends VirtioPciState {
  /** Pages the host asks the balloon to hold. */
  readonly numPages: number;
  /** Pages the driver says it holds. */
  readonly actual: number;
  readonly poisonVal: number;
  /** Head of the stats chain the device holds, or null. */
  readonly statsHead: number | null;
  /** When the held stats buffer goes back to the driver (clock ns), or null. */
  readonly statsDeadlineNs: number | null;
  readonly stats: BalloonStats;
  /** When the last stats arrived (clock ns), or null. */
  readonly statsUpdatedNs: number | null;
  readonly counters: VirtioBalloonCounters;
}

const NO_STATS: BalloonStats = Object.fromEntries(
  BALLOON_STAT_TAGS.map((name) => [name, null]),
) as unknown as BalloonStats;

/** A memory balloon on PCI. */
export class VirtioBalloon extends VirtioPciFunction<VirtioBalloonState> {
  /** Counters (live; {@link snapshot} copies them). */
  readonly counters: VirtioBalloonCounters = { inflated: 0, deflated: 0, statsReports: 0 };
  readonly #clock: Clock;
  readonly #statsTimer: Timer;
  readonly #statsIntervalNs: number;
  readonly #discard: PageRunHandler;
  readonly #reuse: PageRunHandler;
  /** num_pages, actual, free_page_hint_cmd_id, poison_val, little-endian as on every interface. */
  readonly #config = new Uint8Array(VIRTIO_BALLOON_CONFIG_SIZE);
  readonly #configView = new DataView(this.#config.buffer);
  #statsHead: number | null = null;
  #statsDeadline: number | null = null;
  #stats: BalloonStats = NO_STATS;
  #statsUpdated: number | null = null;

  /** @param options guest memory, interrupt line, clock and what to do with pages */
  constructor(options: VirtioBalloonOptions) {
    const interval = options.statsIntervalNs ?? DEFAULT_STATS_INTERVAL_NS;
    if (!(Number.isSafeInteger(interval) && interval >= 0)) {
      throw new RangeError(`stats interval ${interval} ns is not a whole number >= 0`);
    }
    const model: VirtioDeviceModel = {
      deviceType: VIRTIO_ID_BALLOON,
      legacyDeviceId: VIRTIO_BALLOON_PCI_DEVICE_ID,
      classCode: 0x00ff00, // "unclassified, other", as QEMU reports it
      features: VIRTIO_BALLOON_F_STATS_VQ | VIRTIO_BALLOON_F_PAGE_POISON |
        (options.deflateOnOom ? VIRTIO_BALLOON_F_DEFLATE_ON_OOM : 0n) |
        VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX,
      queueSizes: [VIRTIO_BALLOON_QUEUE_SIZE, VIRTIO_BALLOON_QUEUE_SIZE, VIRTIO_BALLOON_QUEUE_SIZE],
      configSize: VIRTIO_BALLOON_CONFIG_SIZE,
      readConfig: (offset, size) => this.#readConfig(offset, size),
      writeConfig: (offset, size, value) => this.#writeConfig(offset, size, value),
      processQueue: (index, queue) => this.#process(index, queue),
      reset: () => this.#driverReset(),
    };
    super("virtio-balloon", model, options);
    this.#clock = options.clock;
    this.#statsIntervalNs = interval;
    this.#statsTimer = options.timer(() => this.#requestStats());
    this.#discard = options.discard;
    this.#reuse = options.reuse;
  }

  /** Pages the host asks the balloon to hold (num_pages). */
  get targetPages(): number {
    return this.#configView.getUint32(0, true);
  }

  /** Pages the driver says the balloon holds (actual). */
  get actualPages(): number {
    return this.#configView.getUint32(4, true);
  }

  /** The driver's last statistics (all null before the first report). */
  get stats(): BalloonStats {
    return { ...this.#stats };
  }

  /**
   * Asks the driver to make the balloon `pages` pages: sets num_pages and, once
   * the driver is running, raises the configuration-change interrupt.
   * @throws {RangeError} unless 0 <= pages < 2^32
   */
  setTarget(pages: number): void {
    if (!Number.isSafeInteger(pages) || pages < 0 || pages > 0xffffffff) {
      throw new RangeError(`balloon target ${pages} pages is out of range`);
    }
    if (pages === this.targetPages) return;
    this.#configView.setUint32(0, pages, true);
    if (this.transport.status & VIRTIO_STATUS_DRIVER_OK) this.transport.signalConfigChange();
  }

  /** Configuration fields, stats and counters. */
  protected deviceSnapshot(): Omit<VirtioBalloonState, keyof VirtioPciState> {
    return {
      numPages: this.targetPages,
      actual: this.actualPages,
      poisonVal: this.#configView.getUint32(12, true),
      statsHead: this.#statsHead,
      statsDeadlineNs: this.#statsDeadline,
      stats: { ...this.#stats },
      statsUpdatedNs: this.#statsUpdated,
      counters: { ...this.counters },
    };
  }

  /** Checks the balloon's fields; the commit re-arms the stats timer at the saved deadline. */
  protected readState(s: StateShape): () => void {
    const u32 = (key: string) => s.int(key, 0, 0xffffffff);
    const numPages = u32("numPages");
    const actual = u32("actual");
    const poisonVal = u32("poisonVal");
    const statsHead = s.intOrNull("statsHead", 0, VIRTIO_BALLOON_QUEUE_SIZE - 1);
    // Clock times may be fractional nanoseconds.
    const statsDeadline = s.numberOrNull("statsDeadlineNs");
    if (statsDeadline !== null && statsHead === null) {
      s.fail("statsDeadlineNs", "is set without a held stats buffer");
    }
    const st = s.object("stats");
    const stats = Object.fromEntries(
      BALLOON_STAT_TAGS.map((name) => [name, st.intOrNull(name)]),
    ) as unknown as BalloonStats;
    const statsUpdated = s.numberOrNull("statsUpdatedNs");
    const c = s.object("counters");
    const counters: VirtioBalloonCounters = {
      inflated: c.int("inflated"),
      deflated: c.int("deflated"),
      statsReports: c.int("statsReports"),
    };
    return () => {
      this.#configView.setUint32(0, numPages, true);
      this.#configView.setUint32(4, actual, true);
      this.#configView.setUint32(8, 0, true);
      this.#configView.setUint32(12, poisonVal, true);
      this.#statsHead = statsHead;
      this.#statsDeadline = statsDeadline;
      this.#stats = stats;
      this.#statsUpdated = statsUpdated;
      Object.assign(this.counters, counters);
      if (statsDeadline === null) this.#statsTimer.cancel();
      else this.#statsTimer.arm(statsDeadline);
    };
  }

  #readConfig(offset: number, size: 1 | 2 | 4): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + this.#config[offset + i];
    return value;
  }

  #writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    const poison = (this.transport.negotiatedFeatures & VIRTIO_BALLOON_F_PAGE_POISON) !== 0n;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      // The driver writes actual and, with PAGE_POISON, poison_val; the rest is the host's.
      if ((at >= 4 && at < 8) || (poison && at >= 12)) {
        this.#config[at] = Math.floor(value / 256 ** i) & 0xff;
      }
    }
  }

  #process(index: number, queue: SplitVirtqueue): boolean {
    if (index === BALLOON_QUEUE.stats) return this.#takeStats(queue);
    const handler = index === BALLOON_QUEUE.inflate ? this.#discard : this.#reuse;
    return queue.drain((chain) => {
      const pages = forEachRun(chain, handler);
      if (index === BALLOON_QUEUE.inflate) this.counters.inflated += pages;
      else this.counters.deflated += pages;
      return 0; // the device writes nothing into PFN arrays
    });
  }

  /**
   * Takes the driver's stats buffer, reads it and keeps it until the next
   * request. A second buffer while one is held sends the older one back.
   */
  #takeStats(queue: SplitVirtqueue): boolean {
    const before = queue.usedIdx;
    for (let chain = queue.pop(); chain; chain = queue.pop()) {
      if (this.#statsHead !== null) queue.push(this.#statsHead, 0);
      this.#statsHead = chain.head;
      this.#stats = parseStats(chain);
      this.#statsUpdated = this.#clock.nowNs();
      this.counters.statsReports++;
    }
    if (this.#statsHead !== null && this.#statsIntervalNs > 0) {
      this.#statsDeadline = this.#clock.nowNs() + this.#statsIntervalNs;
      this.#statsTimer.arm(this.#statsDeadline);
    }
    return queue.needsInterrupt(before);
  }

  /** The stats interval is up: the held buffer goes back so the driver refills it. */
  #requestStats(): void {
    const head = this.#statsHead;
    this.#statsDeadline = null;
    const queue = this.transport.queues[BALLOON_QUEUE.stats];
    if (head === null || !queue.ready || this.transport.broken !== null) return;
    this.#statsHead = null;
    try {
      const before = queue.usedIdx;
      queue.push(head, 0);
      if (queue.needsInterrupt(before)) this.transport.signalUsed();
    } catch (e) {
      // A ring the driver moved out of RAM: the buffer is lost, as it would be on real hardware.
      if (!(e instanceof GuestMemoryError || e instanceof VirtqueueError)) throw e;
    }
  }

  /** A device reset: the driver let go of the balloon and its stats buffer; the target stays. */
  #driverReset(): void {
    this.#configView.setUint32(4, 0, true);
    this.#configView.setUint32(12, 0, true);
    this.#statsHead = null;
    this.#statsDeadline = null;
    this.#statsTimer.cancel();
  }
}

/**
 * Calls `handler` for each run of contiguous PFNs in the chain's readable
 * buffers (le32 each, possibly split across buffers); returns the PFN count.
 */
function forEachRun(chain: DescriptorChain, handler: PageRunHandler): number {
  let start = 0;
  let length = 0;
  let pages = 0;
  const take = (pfn: number) => {
    pages++;
    if (length > 0 && pfn === start + length) {
      length++;
      return;
    }
    if (length > 0) handler(start, length);
    start = pfn;
    length = 1;
  };
  // A PFN may straddle two buffers: its bytes gather here.
  const split = new Uint8Array(4);
  let have = 0;
  for (const buffer of chain.readable) {
    let at = 0;
    while (have > 0 && at < buffer.length) {
      split[have++] = buffer[at++];
      if (have === 4) {
        have = 0;
        take(new DataView(split.buffer).getUint32(0, true));
      }
    }
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    for (; at + 4 <= buffer.length; at += 4) take(view.getUint32(at, true));
    while (at < buffer.length) split[have++] = buffer[at++];
  }
  if (length > 0) handler(start, length);
  return pages;
}

/** Reads le16 tag / le64 value pairs; unknown tags are ignored (§5.5.6.3). */
function parseStats(chain: DescriptorChain): BalloonStats {
  // Each tag appears once: more entries than tags can only be repeats.
  const limit = Math.min(chain.readableLength, MAX_STATS_BYTES);
  const bytes = concat(chain.readable, limit);
  const view = new DataView(bytes.buffer);
  const out: Record<string, number | null> = { ...NO_STATS };
  for (let at = 0; at + VIRTIO_BALLOON_STAT_SIZE <= bytes.length; at += VIRTIO_BALLOON_STAT_SIZE) {
    const name = BALLOON_STAT_TAGS[view.getUint16(at, true)];
    if (name === undefined) continue;
    const value = view.getBigUint64(at + 2, true);
    // Past 2^53 a byte count is not real; keep it as the largest exact number.
    out[name] = value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  }
  return out as unknown as BalloonStats;
}

/** The first `total` bytes of `parts`. */
function concat(parts: readonly Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    if (at >= total) break;
    const n = Math.min(p.length, total - at);
    out.set(p.subarray(0, n), at);
    at += n;
  }
  return out;
}
