/**
 * A thin `Kvm → Vm → Vcpu` layer over /dev/kvm ioctls.
 *
 * @module
 */

import { KvmError, KvmUnavailableError } from "./errors.ts";
import { dirtyLogRequest } from "./dirty_log.ts";
import { decodeExit, EXIT_INTERRUPTED, type VcpuExit } from "./exits.ts";
import { type IoctlName, IOCTLS, KVM_CAP } from "./ioctls.ts";
import {
  cString,
  errno,
  libc,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "./libc.ts";
import {
  decodeMsrList,
  decodeMsrs,
  decodeXcrs,
  encodeMsrs,
  encodeXcrs,
  KvmClockData,
  KvmDebugregs,
  KvmFpu,
  KvmIrqchip,
  KvmLapicState,
  KvmPitState2,
  KvmVcpuEvents,
  KvmXsave,
  type MsrEntry,
  msrListBuffer,
  type Xcr,
} from "./state_structs.ts";
import { msrName } from "./msrs.ts";
import {
  restoreVcpuState,
  restoreVmState,
  saveVcpuState,
  saveVmState,
  type VcpuState,
  type VmState,
} from "./state.ts";
import {
  coalescedMmioZone,
  cpuid2Buffer,
  type CpuidEntry,
  decodeCpuid2,
  encodeCpuid2,
  ioeventfd,
  type IoEventFdMatch,
  type IrqchipRoute,
  irqLevel,
  irqRouting,
  KvmRegs,
  KvmSregs,
  LAYOUTS,
  memoryRegion,
  pitConfig,
} from "./structs.ts";

const EINTR = 4;
const EXIT_REASON_OFFSET = LAYOUTS.kvm_run.fields.exit_reason;
const EAGAIN = 11;
const E2BIG = 7;

function check(call: IoctlName | string, result: number, detail?: string): number {
  if (result < 0) throw new KvmError(call, errno(), detail);
  return result;
}

function ioctlPtr(fd: number, name: IoctlName, buf: Uint8Array<ArrayBuffer>): number {
  // The kernel reads or writes the size encoded in the request: never hand it less.
  const size = (IOCTLS[name] >>> 16) & 0x3fff;
  if (buf.length < size) {
    throw new RangeError(`${name}: ${buf.length}-byte buffer, the structure is ${size}`);
  }
  return check(name, libc().ioctl_ptr(fd, BigInt(IOCTLS[name]), buf));
}

function ioctlVal(fd: number, name: IoctlName, arg: number | bigint = 0): number {
  return check(name, libc().ioctl_val(fd, BigInt(IOCTLS[name]), BigInt(arg)));
}

/** Has KVM fill `into` (a KVM_GET_* structure view) and returns it. */
function ioctlGet<T extends { readonly bytes: Uint8Array<ArrayBuffer> }>(
  fd: number,
  name: IoctlName,
  into: T,
): T {
  ioctlPtr(fd, name, into.bytes);
  return into;
}

/** A vCPU's `kvm_run` area as mapped into this thread. */
interface RunMapping {
  readonly ptr: Deno.PointerObject;
  readonly address: bigint;
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly view: DataView;
}

/** Maps the `kvm_run` area of vCPU descriptor `fd` (`runSize`: KVM_GET_VCPU_MMAP_SIZE). */
function mapRun(fd: number, runSize: number): RunMapping {
  const ptr = libc().mmap(null, BigInt(runSize), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0n);
  if (ptr === null || Deno.UnsafePointer.value(ptr) === 0xffffffffffffffffn) {
    throw new KvmError("mmap(kvm_run)", errno());
  }
  const ab = Deno.UnsafePointerView.getArrayBuffer(ptr, runSize);
  return {
    ptr,
    address: BigInt(Deno.UnsafePointer.value(ptr)),
    bytes: new Uint8Array(ab),
    view: new DataView(ab),
  };
}

const KVM_RUN_REQUEST = BigInt(IOCTLS.KVM_RUN);

/** One KVM_RUN: the raw exit reason from `run`, or `EXIT_INTERRUPTED` after a kick. */
function kvmRun(fd: number, run: DataView): number {
  const r = libc().ioctl_val(fd, KVM_RUN_REQUEST, 0n);
  if (r < 0) {
    const e = errno();
    if (e === EINTR || e === EAGAIN) return EXIT_INTERRUPTED;
    throw new KvmError("KVM_RUN", e);
  }
  return run.getUint32(EXIT_REASON_OFFSET, true);
}

/** KVM_GET_MP_STATE of vCPU descriptor `fd`. */
function getMpState(fd: number): number {
  const buf = new Uint8Array(LAYOUTS.kvm_mp_state.size);
  ioctlPtr(fd, "KVM_GET_MP_STATE", buf);
  return new DataView(buf.buffer).getUint32(0, true);
}

const CLOCK_MONOTONIC = 1;
/** struct timespec: tv_sec and tv_nsec as little-endian 64-bit words. */
const timespec = new Int32Array(4);
const timespecBytes = new Uint8Array(timespec.buffer);
let clockGettime: ((clock: number, ts: Uint8Array) => number) | undefined;
let clockOffsetMs = 0;

/**
 * `performance.now()` for hot loops: the same CLOCK_MONOTONIC timeline, read
 * through one FFI call to the vDSO's clock_gettime (about 50 ns on this
 * kind of host against about 115 ns for `performance.now()`).
 */
export function hostNowMs(): number {
  readHostNow();
  return HOST_NOW_MS[0];
}

/**
 * Where {@link readHostNow} leaves the time. A double a function returns is
 * a heap number when the call is not inlined: two a vCPU exit are garbage
 * that brings the collector (and its helper threads, whose wake-ups cost
 * every KVM_RUN that follows) round every few thousand exits.
 */
export const HOST_NOW_MS = new Float64Array(1);

/** {@link hostNowMs} into `HOST_NOW_MS[0]`, for the vCPU loop: nothing allocated. */
export function readHostNow(): void {
  (clockGettime ?? openClock())(CLOCK_MONOTONIC, timespecBytes);
  HOST_NOW_MS[0] = (timespec[0] + timespec[1] * 0x1_0000_0000) * 1e3 + timespec[2] / 1e6 +
    clockOffsetMs;
}

/** CLOCK_MONOTONIC in nanoseconds: the timeline of KVM's own times (the PIT's count_load_time). */
export function hostMonotonicNs(): number {
  (clockGettime ?? openClock())(CLOCK_MONOTONIC, timespecBytes);
  return (timespec[0] + timespec[1] * 0x1_0000_0000) * 1e9 + timespec[2];
}

function openClock(): (clock: number, ts: Uint8Array) => number {
  const lib = Deno.dlopen(
    "libc.so.6",
    {
      clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
    } as const,
  );
  const gettime = clockGettime = lib.symbols.clock_gettime;
  // Both clocks are CLOCK_MONOTONIC: one offset, from the tightest of a few pairs.
  let tightest = Infinity;
  let offset = 0;
  for (let i = 0; i < 16; i++) {
    const a = performance.now();
    gettime(CLOCK_MONOTONIC, timespecBytes);
    const b = performance.now();
    const m = (timespec[0] + timespec[1] * 0x1_0000_0000) * 1e3 + timespec[2] / 1e6;
    if (b - a < tightest) {
      tightest = b - a;
      offset = (a + b) / 2 - m;
    }
  }
  clockOffsetMs = offset;
  return gettime;
}

/** The KVM API version this code speaks. */
export const KVM_API_VERSION = 12;

/** An open /dev/kvm. */
export class Kvm {
  #msrIndexList: readonly number[] | undefined;

  private constructor(readonly fd: number) {}

  /**
   * Opens /dev/kvm and checks the API version and the capabilities vmrun needs.
   * @throws {KvmUnavailableError} when the device cannot be opened
   * @throws {KvmError} when the kernel's KVM is too old
   */
  static open(path = "/dev/kvm"): Kvm {
    const fd = libc().open(cString(path), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) throw new KvmUnavailableError(errno(), path);
    const kvm = new Kvm(fd);
    const version = ioctlVal(fd, "KVM_GET_API_VERSION");
    if (version !== KVM_API_VERSION) {
      kvm.close();
      throw new KvmError("KVM_GET_API_VERSION", 0, `version ${version}, need ${KVM_API_VERSION}`);
    }
    for (
      const cap of ["KVM_CAP_IRQCHIP", "KVM_CAP_USER_MEMORY", "KVM_CAP_IMMEDIATE_EXIT"] as const
    ) {
      if (!kvm.checkExtension(KVM_CAP[cap])) {
        kvm.close();
        throw new KvmError("KVM_CHECK_EXTENSION", 0, `${cap} missing`);
      }
    }
    return kvm;
  }

  /** KVM_CHECK_EXTENSION: 0 when unsupported. */
  checkExtension(cap: number): number {
    return ioctlVal(this.fd, "KVM_CHECK_EXTENSION", cap);
  }

  /** Size of the shared `kvm_run` area of a vCPU. */
  vcpuMmapSize(): number {
    return ioctlVal(this.fd, "KVM_GET_VCPU_MMAP_SIZE");
  }

  /** The CPUID leaves KVM can offer a guest. */
  supportedCpuid(): CpuidEntry[] {
    const buf = cpuid2Buffer(256);
    ioctlPtr(this.fd, "KVM_GET_SUPPORTED_CPUID", buf);
    return decodeCpuid2(buf);
  }

  /** KVM_GET_MSR_INDEX_LIST: the MSRs KVM can save and restore (asked once, then cached). */
  msrIndexList(): readonly number[] {
    if (this.#msrIndexList) return this.#msrIndexList;
    // Asking with room for none makes KVM say how many there are (E2BIG).
    const probe = msrListBuffer(0);
    const r = libc().ioctl_ptr(this.fd, BigInt(IOCTLS.KVM_GET_MSR_INDEX_LIST), probe);
    if (r < 0 && errno() !== E2BIG) throw new KvmError("KVM_GET_MSR_INDEX_LIST", errno());
    const n = new DataView(probe.buffer).getUint32(0, true);
    const buf = msrListBuffer(n);
    ioctlPtr(this.fd, "KVM_GET_MSR_INDEX_LIST", buf);
    return this.#msrIndexList = Object.freeze(decodeMsrList(buf));
  }

  /** KVM_CREATE_VM. */
  createVm(): Vm {
    return new Vm(this, ioctlVal(this.fd, "KVM_CREATE_VM"));
  }

  /** Closes the descriptor. */
  close(): void {
    libc().close(this.fd);
  }
}

/** A virtual machine: memory slots, the in-kernel irqchip and PIT, vCPUs. */
export class Vm {
  #hasIrqchip = false;
  #hasPit = false;

  /** @internal created by {@link Kvm.createVm} */
  constructor(readonly kvm: Kvm, readonly fd: number) {}

  /** KVM_CHECK_EXTENSION on the VM (some answers, like KVM_CAP_XSAVE2, are per VM): 0 when unsupported. */
  checkExtension(cap: number): number {
    return ioctlVal(this.fd, "KVM_CHECK_EXTENSION", cap);
  }

  /** Whether {@link createIrqchip} was called. */
  get hasIrqchip(): boolean {
    return this.#hasIrqchip;
  }

  /** Whether {@link createPit2} was called. */
  get hasPit(): boolean {
    return this.#hasPit;
  }

  /** Maps host memory at `hostAddr` as guest-physical `[gpa, gpa + size)`; size 0 deletes the slot. */
  setUserMemoryRegion(slot: number, gpa: number, size: number, hostAddr: bigint, flags = 0): void {
    ioctlPtr(this.fd, "KVM_SET_USER_MEMORY_REGION", memoryRegion(slot, gpa, size, hostAddr, flags));
  }

  /**
   * KVM_GET_DIRTY_LOG: fills `bitmap` (`dirtyBitmapBytes` of the slot's size,
   * see dirty_log.ts) with the pages the guest wrote in `slot` since the last
   * call, and clears KVM's log. The slot must have been created with
   * KVM_MEM_LOG_DIRTY_PAGES.
   */
  getDirtyLog(slot: number, bitmap: Uint8Array<ArrayBuffer>): void {
    const address = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bitmap)));
    ioctlPtr(this.fd, "KVM_GET_DIRTY_LOG", dirtyLogRequest(slot, address));
  }

  /** Where KVM keeps the real-mode TSS (three pages, outside RAM). */
  setTssAddr(addr: number): void {
    ioctlVal(this.fd, "KVM_SET_TSS_ADDR", addr);
  }

  /** Where KVM keeps the identity-map page table (one page, outside RAM). */
  setIdentityMapAddr(addr: number): void {
    const buf = new Uint8Array(8);
    new DataView(buf.buffer).setBigUint64(0, BigInt(addr), true);
    ioctlPtr(this.fd, "KVM_SET_IDENTITY_MAP_ADDR", buf);
  }

  /** The in-kernel PIC pair and IOAPIC (and a LAPIC per vCPU). */
  createIrqchip(): void {
    ioctlVal(this.fd, "KVM_CREATE_IRQCHIP");
    this.#hasIrqchip = true;
  }

  /**
   * KVM_IOEVENTFD: from now on a guest write matching `match` signals eventfd
   * `fd` inside the kernel and the vCPU goes on, without an exit; `deassign`
   * removes a registration made with the same match and fd.
   */
  ioeventfd(match: IoEventFdMatch, fd: number, deassign = false): void {
    ioctlPtr(this.fd, "KVM_IOEVENTFD", ioeventfd(match, fd, deassign));
  }

  /** The in-kernel PIT (i8254) with its speaker port stub. */
  createPit2(flags = 0): void {
    ioctlPtr(this.fd, "KVM_CREATE_PIT2", pitConfig(flags));
    this.#hasPit = true;
  }

  /** KVM_GET_IRQCHIP: one chip (KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE or _IOAPIC). */
  getIrqchip(chipId: number): KvmIrqchip {
    const chip = new KvmIrqchip();
    chip.chipId = chipId;
    ioctlPtr(this.fd, "KVM_GET_IRQCHIP", chip.bytes);
    return chip;
  }

  /** KVM_SET_IRQCHIP: the chip named by its `chipId`. */
  setIrqchip(chip: KvmIrqchip): void {
    ioctlPtr(this.fd, "KVM_SET_IRQCHIP", chip.bytes);
  }

  /** KVM_GET_PIT2. */
  getPit2(): KvmPitState2 {
    return ioctlGet(this.fd, "KVM_GET_PIT2", new KvmPitState2());
  }

  /** KVM_SET_PIT2 (KVM reloads each channel's count as if written now). */
  setPit2(pit: KvmPitState2): void {
    ioctlPtr(this.fd, "KVM_SET_PIT2", pit.bytes);
  }

  /** KVM_GET_CLOCK: the kvmclock the guest sees. */
  getClock(): KvmClockData {
    return ioctlGet(this.fd, "KVM_GET_CLOCK", new KvmClockData());
  }

  /** KVM_SET_CLOCK. */
  setClock(clock: KvmClockData): void {
    ioctlPtr(this.fd, "KVM_SET_CLOCK", clock.bytes);
  }

  /**
   * The VM-wide KVM state: PICs and IOAPIC, PIT, kvmclock. Take it with
   * every vCPU stopped; see state.ts for what is carried.
   */
  saveState(): VmState {
    return saveVmState(this);
  }

  /**
   * Puts a {@link saveState} result into this VM, which must have the same
   * irqchip and PIT. Restore the VM before its vCPUs (see state.ts).
   */
  restoreState(state: VmState): void {
    restoreVmState(this, state);
  }

  /**
   * KVM_SET_GSI_ROUTING: replaces the whole GSI routing table of the
   * in-kernel irqchip (after {@link createIrqchip}); a GSI with no route
   * reaches nothing.
   */
  setGsiRouting(routes: readonly IrqchipRoute[]): void {
    ioctlPtr(this.fd, "KVM_SET_GSI_ROUTING", irqRouting(routes));
  }

  /** Sets the level of an interrupt line (GSI) of the in-kernel irqchip. */
  irqLine(gsi: number, level: boolean): void {
    ioctlPtr(this.fd, "KVM_IRQ_LINE", irqLevel(gsi, level));
  }

  /**
   * KVM_REGISTER_COALESCED_MMIO: guest writes to `[addr, addr + size)` no
   * longer exit; KVM queues them in the ring the vCPUs' mappings share
   * (see coalesced_mmio.ts), to be replayed before the next exit is handled.
   */
  registerCoalescedMmio(addr: number, size: number): void {
    ioctlPtr(this.fd, "KVM_REGISTER_COALESCED_MMIO", coalescedMmioZone(addr, size));
  }

  /** KVM_CREATE_VCPU, with its `kvm_run` area mapped. */
  createVcpu(id: number): Vcpu {
    const fd = ioctlVal(this.fd, "KVM_CREATE_VCPU", id);
    return new Vcpu(id, fd, this.kvm.vcpuMmapSize(), this);
  }

  /** Closes the descriptor (the kernel frees the VM once its vCPUs are closed too). */
  close(): void {
    libc().close(this.fd);
  }
}

/** A virtual CPU and its shared `kvm_run` area. */
export class Vcpu {
  /** The `kvm_run` area as bytes and as a DataView. */
  readonly runBytes: Uint8Array<ArrayBuffer>;
  readonly runView: DataView;
  /** Host address of the `kvm_run` area, for kicking from another thread. */
  readonly runAddress: bigint;
  readonly #runSize: number;
  #runPtr: Deno.PointerObject;

  /** @internal created by {@link Vm.createVcpu} */
  constructor(readonly id: number, readonly fd: number, runSize: number, readonly vm: Vm) {
    const run = mapRun(fd, runSize);
    this.#runPtr = run.ptr;
    this.#runSize = runSize;
    this.runAddress = run.address;
    this.runBytes = run.bytes;
    this.runView = run.view;
  }

  /**
   * Runs the vCPU until the next exit. A kick (signal or `immediate_exit`)
   * returns `{ kind: "interrupted" }`.
   */
  run(): VcpuExit {
    return this.runRaw() === EXIT_INTERRUPTED ? { kind: "interrupted" } : decodeExit(this.runView);
  }

  /**
   * Runs the vCPU until the next exit without decoding it, for the hot loop:
   * returns the raw exit reason (`EXIT_REASON` in exits.ts; the details stay
   * in {@link runView}) or `EXIT_INTERRUPTED` after a kick.
   * @throws {KvmError} when KVM_RUN fails
   */
  runRaw(): number {
    return kvmRun(this.fd, this.runView);
  }

  /** Sets or clears `immediate_exit` so the next KVM_RUN returns at once. */
  set immediateExit(on: boolean) {
    this.runBytes[LAYOUTS.kvm_run.fields.immediate_exit] = on ? 1 : 0;
  }

  /** KVM_GET_REGS. */
  getRegs(): KvmRegs {
    return ioctlGet(this.fd, "KVM_GET_REGS", new KvmRegs());
  }

  /** KVM_SET_REGS. */
  setRegs(regs: KvmRegs): void {
    ioctlPtr(this.fd, "KVM_SET_REGS", regs.bytes);
  }

  /** KVM_GET_SREGS. */
  getSregs(): KvmSregs {
    return ioctlGet(this.fd, "KVM_GET_SREGS", new KvmSregs());
  }

  /** KVM_SET_SREGS. */
  setSregs(sregs: KvmSregs): void {
    ioctlPtr(this.fd, "KVM_SET_SREGS", sregs.bytes);
  }

  /** KVM_SET_CPUID2. */
  setCpuid(entries: readonly CpuidEntry[]): void {
    ioctlPtr(this.fd, "KVM_SET_CPUID2", encodeCpuid2(entries));
  }

  /** KVM_GET_CPUID2: the CPUID leaves set by {@link setCpuid}. */
  getCpuid(): CpuidEntry[] {
    const buf = cpuid2Buffer(256);
    ioctlPtr(this.fd, "KVM_GET_CPUID2", buf);
    return decodeCpuid2(buf);
  }

  /** KVM_GET_MP_STATE (0 runnable, 1 uninitialized, 2 init received, 3 halted, 4 SIPI received). */
  mpState(): number {
    return getMpState(this.fd);
  }

  /** KVM_SET_MP_STATE. */
  setMpState(state: number): void {
    const buf = new Uint8Array(LAYOUTS.kvm_mp_state.size);
    new DataView(buf.buffer).setUint32(0, state, true);
    ioctlPtr(this.fd, "KVM_SET_MP_STATE", buf);
  }

  /** KVM_GET_FPU: x87 and SSE state. */
  getFpu(): KvmFpu {
    return ioctlGet(this.fd, "KVM_GET_FPU", new KvmFpu());
  }

  /** KVM_SET_FPU. */
  setFpu(fpu: KvmFpu): void {
    ioctlPtr(this.fd, "KVM_SET_FPU", fpu.bytes);
  }

  /**
   * Bytes of this VM's XSAVE image: KVM_CAP_XSAVE2's answer (at least 4096)
   * where KVM has it, 4096 where it has only KVM_CAP_XSAVE, 0 without XSAVE.
   */
  xsaveSize(): number {
    if (this.vm.kvm.checkExtension(KVM_CAP.KVM_CAP_XSAVE) === 0) return 0;
    return Math.max(this.vm.checkExtension(KVM_CAP.KVM_CAP_XSAVE2), LAYOUTS.kvm_xsave.size);
  }

  /**
   * KVM_GET_XSAVE2 (KVM_GET_XSAVE where KVM lacks KVM_CAP_XSAVE2): every
   * XSAVE-managed register (x87, SSE, AVX, ...) as a standard-format image.
   */
  getXsave(): KvmXsave {
    const size = this.xsaveSize();
    if (size === 0) throw new KvmError("KVM_GET_XSAVE", 0, "KVM_CAP_XSAVE missing");
    const xsave = new KvmXsave(new Uint8Array(size));
    const two = this.vm.checkExtension(KVM_CAP.KVM_CAP_XSAVE2) > 0;
    ioctlPtr(this.fd, two ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE", xsave.bytes);
    return xsave;
  }

  /** KVM_SET_XSAVE: an image shorter than this VM's size is zero-extended (absent components). */
  setXsave(xsave: KvmXsave): void {
    const size = this.xsaveSize();
    let bytes = xsave.bytes;
    if (bytes.length < size) {
      bytes = new Uint8Array(size);
      bytes.set(xsave.bytes);
    }
    ioctlPtr(this.fd, "KVM_SET_XSAVE", bytes);
  }

  /** KVM_GET_XCRS: the extended control registers (XCR0). */
  getXcrs(): Xcr[] {
    const buf = new Uint8Array(LAYOUTS.kvm_xcrs.size);
    ioctlPtr(this.fd, "KVM_GET_XCRS", buf);
    return decodeXcrs(buf);
  }

  /** KVM_SET_XCRS. */
  setXcrs(xcrs: readonly Xcr[]): void {
    ioctlPtr(this.fd, "KVM_SET_XCRS", encodeXcrs(xcrs));
  }

  /** KVM_GET_LAPIC: the in-kernel local APIC's register page. */
  getLapic(): KvmLapicState {
    return ioctlGet(this.fd, "KVM_GET_LAPIC", new KvmLapicState());
  }

  /**
   * KVM_SET_LAPIC. KVM reads the APIC base (xAPIC or x2APIC) from the vCPU,
   * so set sregs first; the timer restarts from its initial count.
   */
  setLapic(lapic: KvmLapicState): void {
    ioctlPtr(this.fd, "KVM_SET_LAPIC", lapic.bytes);
  }

  /**
   * KVM_GET_MSRS for `indices`.
   * @throws {KvmError} naming the first MSR KVM would not read
   */
  getMsrs(indices: readonly number[]): MsrEntry[] {
    const buf = encodeMsrs(indices.map((index) => ({ index, value: 0n })));
    const n = ioctlPtr(this.fd, "KVM_GET_MSRS", buf);
    if (n < indices.length) {
      throw new KvmError("KVM_GET_MSRS", 0, `${msrName(indices[n])} not readable`);
    }
    return decodeMsrs(buf);
  }

  /**
   * How many of `indices`, from the first, KVM_GET_MSRS reads (KVM stops at
   * the first it refuses), for probing without an error.
   */
  readableMsrCount(indices: readonly number[]): number {
    const buf = encodeMsrs(indices.map((index) => ({ index, value: 0n })));
    return ioctlPtr(this.fd, "KVM_GET_MSRS", buf);
  }

  /**
   * KVM_SET_MSRS, in the order given.
   * @throws {KvmError} naming the first MSR KVM refused
   */
  setMsrs(entries: readonly MsrEntry[]): void {
    const n = ioctlPtr(this.fd, "KVM_SET_MSRS", encodeMsrs(entries));
    if (n < entries.length) {
      const e = entries[n];
      throw new KvmError(
        "KVM_SET_MSRS",
        0,
        `${msrName(e.index)} refused value 0x${e.value.toString(16)}`,
      );
    }
  }

  /** KVM_GET_VCPU_EVENTS: pending and injected exceptions, interrupts, NMIs, SMIs. */
  getVcpuEvents(): KvmVcpuEvents {
    return ioctlGet(this.fd, "KVM_GET_VCPU_EVENTS", new KvmVcpuEvents());
  }

  /** KVM_SET_VCPU_EVENTS (its `flags` say which optional parts are valid). */
  setVcpuEvents(events: KvmVcpuEvents): void {
    ioctlPtr(this.fd, "KVM_SET_VCPU_EVENTS", events.bytes);
  }

  /** KVM_GET_DEBUGREGS: DR0-DR3, DR6, DR7. */
  getDebugregs(): KvmDebugregs {
    return ioctlGet(this.fd, "KVM_GET_DEBUGREGS", new KvmDebugregs());
  }

  /** KVM_SET_DEBUGREGS. */
  setDebugregs(regs: KvmDebugregs): void {
    ioctlPtr(this.fd, "KVM_SET_DEBUGREGS", regs.bytes);
  }

  /** KVM_GET_TSC_KHZ: the guest TSC frequency. */
  getTscKhz(): number {
    return ioctlVal(this.fd, "KVM_GET_TSC_KHZ");
  }

  /** KVM_SET_TSC_KHZ (needs KVM_CAP_TSC_CONTROL and TSC scaling in hardware). */
  setTscKhz(khz: number): void {
    ioctlVal(this.fd, "KVM_SET_TSC_KHZ", khz);
  }

  /**
   * Everything KVM holds for this vCPU, as plain data (see state.ts). Call
   * it from the thread that runs the vCPU, between runs: it first re-enters
   * KVM with `immediate_exit` so the I/O or MMIO of the last exit completes.
   */
  saveState(): VcpuState {
    return saveVcpuState(this);
  }

  /** Puts a {@link saveState} result into this vCPU, in the order KVM needs (see state.ts). */
  restoreState(state: VcpuState): void {
    restoreVcpuState(this, state);
  }

  /**
   * KVM_RUN with `immediate_exit` set: KVM finishes the instruction behind
   * the last I/O or MMIO exit (an IN's data must already be in place) and
   * returns without running the guest, so the registers are consistent.
   */
  completePendingExit(): void {
    const at = LAYOUTS.kvm_run.fields.immediate_exit;
    const before = this.runBytes[at];
    this.runBytes[at] = 1;
    try {
      const r = libc().ioctl_val(this.fd, KVM_RUN_REQUEST, 0n);
      if (r >= 0) throw new KvmError("KVM_RUN", 0, "ran the guest despite immediate_exit");
      const e = errno();
      if (e !== EINTR && e !== EAGAIN) throw new KvmError("KVM_RUN", e);
    } finally {
      this.runBytes[at] = before;
    }
  }

  /** Unmaps `kvm_run` and closes the descriptor. */
  close(): void {
    libc().munmap(this.#runPtr, BigInt(this.#runSize));
    libc().close(this.fd);
  }
}

/**
 * A vCPU another thread created (its {@link Vcpu} stays with that thread's
 * board, which closes the descriptor), mapped here to run it: descriptors
 * belong to the process, so an application processor's own worker runs
 * KVM_RUN on it with its own view of the `kvm_run` area.
 */
export class AttachedVcpu {
  /** The `kvm_run` area as bytes and as a DataView. */
  readonly runBytes: Uint8Array<ArrayBuffer>;
  readonly runView: DataView;
  /** Host address of this thread's mapping of `kvm_run`. */
  readonly runAddress: bigint;
  readonly #runPtr: Deno.PointerObject;

  /**
   * @param fd the vCPU descriptor from KVM_CREATE_VCPU
   * @param runSize KVM_GET_VCPU_MMAP_SIZE
   */
  constructor(readonly fd: number, readonly runSize: number) {
    const run = mapRun(fd, runSize);
    this.#runPtr = run.ptr;
    this.runAddress = run.address;
    this.runBytes = run.bytes;
    this.runView = run.view;
  }

  /** As {@link Vcpu.runRaw}: the raw exit reason, or `EXIT_INTERRUPTED` after a kick. */
  runRaw(): number {
    return kvmRun(this.fd, this.runView);
  }

  /** Sets or clears `immediate_exit`. */
  set immediateExit(on: boolean) {
    this.runBytes[LAYOUTS.kvm_run.fields.immediate_exit] = on ? 1 : 0;
  }

  /** KVM_GET_MP_STATE. */
  mpState(): number {
    return getMpState(this.fd);
  }

  /** Unmaps this thread's view of `kvm_run`; the descriptor stays open. */
  detach(): void {
    libc().munmap(this.#runPtr, BigInt(this.runSize));
  }
}
