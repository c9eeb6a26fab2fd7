/**
 * An encoder for ACPI Machine Language (AML), the byte code of the DSDT,
 * written from the grammar in the ACPI specification (chapter 20, "ACPI
 * Machine Language Specification"). Each function returns the encoding of
 * one term; terms nest by passing encodings as arguments.
 *
 * Arguments that are term args ({@link Term}) may be given as:
 * - a number or bigint: an integer (ZeroOp, OneOp, OnesOp or the smallest
 *   Byte/Word/DWord/QWord prefix that holds it);
 * - a string: a name path, e.g. `"\\_SB.PCI0"`, `"^LNKA"`, `"PRQ0"`;
 * - a Uint8Array: an encoding built with these functions.
 *
 * Resource templates (chapter 6.4, "Resource Data Types for ACPI") are
 * built from the descriptor functions ({@link io}, {@link irqNoFlags},
 * {@link wordBusNumber}, ...) and {@link resourceTemplate}, which appends
 * the End Tag and wraps them in a Buffer.
 *
 * @module
 */

/** An encoded term, or a value encoded on the way in (see the module docs). */
export type Term = Uint8Array | number | bigint | string;

const OP = {
  ZERO: 0x00,
  ONE: 0x01,
  ALIAS: 0x06,
  NAME: 0x08,
  BYTE_PREFIX: 0x0a,
  WORD_PREFIX: 0x0b,
  DWORD_PREFIX: 0x0c,
  STRING_PREFIX: 0x0d,
  QWORD_PREFIX: 0x0e,
  SCOPE: 0x10,
  BUFFER: 0x11,
  PACKAGE: 0x12,
  METHOD: 0x14,
  DUAL_NAME_PREFIX: 0x2e,
  MULTI_NAME_PREFIX: 0x2f,
  EXT_PREFIX: 0x5b,
  ROOT_CHAR: 0x5c,
  PARENT_PREFIX: 0x5e,
  LOCAL0: 0x60,
  ARG0: 0x68,
  STORE: 0x70,
  ADD: 0x72,
  SUBTRACT: 0x74,
  INCREMENT: 0x75,
  DECREMENT: 0x76,
  SHIFT_LEFT: 0x79,
  SHIFT_RIGHT: 0x7a,
  AND: 0x7b,
  OR: 0x7d,
  NOT: 0x80,
  FIND_SET_RIGHT_BIT: 0x82,
  DEREF_OF: 0x83,
  INDEX: 0x88,
  CREATE_DWORD_FIELD: 0x8a,
  CREATE_WORD_FIELD: 0x8b,
  CREATE_BYTE_FIELD: 0x8c,
  LAND: 0x90,
  LOR: 0x91,
  LNOT: 0x92,
  LEQUAL: 0x93,
  LGREATER: 0x94,
  LLESS: 0x95,
  IF: 0xa0,
  ELSE: 0xa1,
  RETURN: 0xa4,
  ONES: 0xff,
} as const;

const EXT_OP = {
  OP_REGION: 0x80,
  FIELD: 0x81,
  DEVICE: 0x82,
} as const;

/** Largest value a PkgLength can encode (28 bits). */
export const PKG_LENGTH_MAX = 0x0fffffff;

/** Concatenates encodings. */
export function concat(...parts: readonly (Uint8Array | readonly number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The PkgLength encoding of `value` itself (1-4 bytes): one byte for values
 * below 0x40; otherwise bits 7:6 of the lead byte count the bytes that
 * follow, its bits 3:0 hold the low nibble and each following byte the next
 * eight bits. Field elements use this form for bit widths.
 * @throws {RangeError} beyond 28 bits
 */
export function encodePkgLength(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > PKG_LENGTH_MAX) {
    throw new RangeError(`PkgLength out of range: ${value}`);
  }
  if (value < 0x40) return Uint8Array.of(value);
  const follow = value < 0x1000 ? 1 : value < 0x100000 ? 2 : 3;
  const out = new Uint8Array(1 + follow);
  out[0] = follow << 6 | (value & 0x0f);
  for (let i = 1; i <= follow; i++) out[i] = (value >>> (4 + 8 * (i - 1))) & 0xff;
  return out;
}

/**
 * `body` preceded by its PkgLength, which counts its own bytes too (the
 * form of ScopeOp, DeviceOp, MethodOp, PackageOp, BufferOp, IfOp ...).
 * @throws {RangeError} when the package does not fit 28 bits
 */
export function pkg(body: Uint8Array): Uint8Array {
  // The length's own size depends on the total it encodes; take the first that agrees.
  for (let size = 1; size <= 4; size++) {
    const total = body.length + size;
    if (total > PKG_LENGTH_MAX) break;
    const encoded = encodePkgLength(total);
    if (encoded.length === size) return concat(encoded, body);
  }
  throw new RangeError(`package too long: ${body.length} bytes`);
}

/** A 4-character NameSeg: upper-case letters, digits and '_', padded with '_'. */
export function nameSeg(seg: string): Uint8Array {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new SyntaxError(`bad AML name segment '${seg}'`);
  const padded = seg.padEnd(4, "_");
  return Uint8Array.from(padded, (c) => c.charCodeAt(0));
}

/**
 * A NameString: an optional root ('\') or parent ('^', repeated) prefix and
 * dot-separated segments, as NullName (no segment), one NameSeg, a
 * DualNamePath or a MultiNamePath.
 * @throws {SyntaxError} for a malformed path
 */
export function nameString(path: string): Uint8Array {
  let rest = path;
  const prefix: number[] = [];
  if (rest.startsWith("\\")) {
    prefix.push(OP.ROOT_CHAR);
    rest = rest.slice(1);
  } else {
    while (rest.startsWith("^")) {
      prefix.push(OP.PARENT_PREFIX);
      rest = rest.slice(1);
    }
  }
  const segs = rest === "" ? [] : rest.split(".").map(nameSeg);
  if (segs.length > 255) throw new SyntaxError(`AML name path too long: ${path}`);
  if (segs.length === 0) return concat(prefix, [0x00]);
  if (segs.length === 1) return concat(prefix, segs[0]);
  if (segs.length === 2) return concat(prefix, [OP.DUAL_NAME_PREFIX], ...segs);
  return concat(prefix, [OP.MULTI_NAME_PREFIX, segs.length], ...segs);
}

/**
 * An integer constant in the shortest form: ZeroOp, OneOp, OnesOp (all
 * 64 bits set), or a Byte, Word, DWord or QWord prefix.
 * @throws {RangeError} for negative, fractional or wider-than-64-bit values
 */
export function integer(value: number | bigint): Uint8Array {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`AML integer not exact: ${value}`);
  }
  const v = BigInt(value);
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`AML integer out of range: ${v}`);
  if (v === 0n) return Uint8Array.of(OP.ZERO);
  if (v === 1n) return Uint8Array.of(OP.ONE);
  if (v === 0xffffffffffffffffn) return Uint8Array.of(OP.ONES);
  const [op, bytes] = v <= 0xffn
    ? [OP.BYTE_PREFIX, 1]
    : v <= 0xffffn
    ? [OP.WORD_PREFIX, 2]
    : v <= 0xffffffffn
    ? [OP.DWORD_PREFIX, 4]
    : [OP.QWORD_PREFIX, 8];
  return concat([op], leBytes(v, bytes));
}

/** An integer with the given prefix whatever its value (e.g. a DWord EISA ID). */
export function dword(value: number): Uint8Array {
  return concat([OP.DWORD_PREFIX], leBytes(BigInt(value >>> 0), 4));
}

/** A String: ASCII characters (1-0x7F) and the terminating NUL. */
export function string(s: string): Uint8Array {
  const codes = Array.from(s, (c) => c.charCodeAt(0));
  if (codes.some((c) => c < 1 || c > 0x7f)) throw new RangeError(`not an AML string: ${s}`);
  return concat([OP.STRING_PREFIX], codes, [0]);
}

/**
 * The 32-bit compressed EISA ID of a PNP ID such as "PNP0A03": three
 * letters of 5 bits each and four hex digits, stored big-endian.
 */
export function eisaId(id: string): Uint8Array {
  const m = /^([A-Z]{3})([0-9A-F]{4})$/.exec(id);
  if (!m) throw new SyntaxError(`bad EISA ID '${id}'`);
  const [a, b, c] = Array.from(m[1], (ch) => ch.charCodeAt(0) - 0x40);
  const product = parseInt(m[2], 16);
  const bytes = [a << 2 | b >> 3, (b & 7) << 5 | c, product >> 8, product & 0xff];
  return dword(bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24);
}

/** Encodes a term arg given as a number, a name path or an encoding. */
export function term(t: Term): Uint8Array {
  if (typeof t === "number" || typeof t === "bigint") return integer(t);
  if (typeof t === "string") return nameString(t);
  return t;
}

/** `Name (name, value)`. */
export function name(path: string, value: Term): Uint8Array {
  return concat([OP.NAME], nameString(path), term(value));
}

/** `Scope (path) { terms }`. */
export function scope(path: string, ...terms: Uint8Array[]): Uint8Array {
  return concat([OP.SCOPE], pkg(concat(nameString(path), ...terms)));
}

/** `Device (path) { terms }`. */
export function device(path: string, ...terms: Uint8Array[]): Uint8Array {
  return concat([OP.EXT_PREFIX, EXT_OP.DEVICE], pkg(concat(nameString(path), ...terms)));
}

/** Options of {@link method}. */
export interface MethodOptions {
  /** Arguments, 0-7. */
  readonly args?: number;
  /** Serialized (one caller at a time), needed when the method creates named objects. */
  readonly serialized?: boolean;
}

/** `Method (path, args, Serialized|NotSerialized) { terms }`. */
export function method(path: string, options: MethodOptions, ...terms: Uint8Array[]): Uint8Array {
  const args = options.args ?? 0;
  if (!Number.isInteger(args) || args < 0 || args > 7) {
    throw new RangeError(`bad arg count ${args}`);
  }
  const flags = args | (options.serialized ? 1 << 3 : 0);
  return concat([OP.METHOD], pkg(concat(nameString(path), [flags], ...terms)));
}

/** `Package () { elements }`: integers, strings (use {@link string}), names or encodings. */
export function packageOf(...elements: Term[]): Uint8Array {
  if (elements.length > 255) throw new RangeError("package of more than 255 elements");
  return concat([OP.PACKAGE], pkg(concat([elements.length], ...elements.map(term))));
}

/** `Buffer () { bytes }`. */
export function buffer(bytes: Uint8Array | readonly number[]): Uint8Array {
  return concat([OP.BUFFER], pkg(concat(integer(bytes.length), bytes)));
}

/** `ArgN` (0-6). */
export function arg(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 6) throw new RangeError(`bad ArgN ${n}`);
  return Uint8Array.of(OP.ARG0 + n);
}

/** `LocalN` (0-7). */
export function local(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 7) throw new RangeError(`bad LocalN ${n}`);
  return Uint8Array.of(OP.LOCAL0 + n);
}

/** The NullName target: the result is not stored. */
export const NO_TARGET: Uint8Array = Uint8Array.of(0x00);

/** `Return (value)`. */
export function returnOf(value: Term): Uint8Array {
  return concat([OP.RETURN], term(value));
}

/** `Store (source, target)`. */
export function store(source: Term, target: Term): Uint8Array {
  return concat([OP.STORE], term(source), term(target));
}

/** `If (predicate) { terms }`; an {@link elseDo} may follow. */
export function ifThen(predicate: Term, ...terms: Uint8Array[]): Uint8Array {
  return concat([OP.IF], pkg(concat(term(predicate), ...terms)));
}

/** `Else { terms }`; follows an {@link ifThen} directly. */
export function elseDo(...terms: Uint8Array[]): Uint8Array {
  return concat([OP.ELSE], pkg(concat(...terms)));
}

function binary(op: number, a: Term, b: Term, target: Term): Uint8Array {
  return concat([op], term(a), term(b), term(target));
}

/** `And (a, b, target)`: bitwise and. */
export function and(a: Term, b: Term, target: Term = NO_TARGET): Uint8Array {
  return binary(OP.AND, a, b, target);
}

/** `Or (a, b, target)`: bitwise or. */
export function or(a: Term, b: Term, target: Term = NO_TARGET): Uint8Array {
  return binary(OP.OR, a, b, target);
}

/** `ShiftLeft (a, count, target)`. */
export function shiftLeft(a: Term, count: Term, target: Term = NO_TARGET): Uint8Array {
  return binary(OP.SHIFT_LEFT, a, count, target);
}

/** `FindSetRightBit (a, target)`: 1 + the index of the lowest set bit, 0 for none. */
export function findSetRightBit(a: Term, target: Term = NO_TARGET): Uint8Array {
  return concat([OP.FIND_SET_RIGHT_BIT], term(a), term(target));
}

/** `Decrement (target)`. */
export function decrement(target: Term): Uint8Array {
  return concat([OP.DECREMENT], term(target));
}

/** `LEqual (a, b)`. */
export function lEqual(a: Term, b: Term): Uint8Array {
  return concat([OP.LEQUAL], term(a), term(b));
}

/** `LLess (a, b)`. */
export function lLess(a: Term, b: Term): Uint8Array {
  return concat([OP.LLESS], term(a), term(b));
}

/** `LNot (a)`. */
export function lNot(a: Term): Uint8Array {
  return concat([OP.LNOT], term(a));
}

/** `Index (source, index, target)`: a reference to an element of a buffer, string or package. */
export function index(source: Term, at: Term, target: Term = NO_TARGET): Uint8Array {
  return binary(OP.INDEX, source, at, target);
}

/** `DerefOf (reference)`. */
export function derefOf(reference: Term): Uint8Array {
  return concat([OP.DEREF_OF], term(reference));
}

/** `CreateDWordField (source, byteIndex, name)`. */
export function createDWordField(source: Term, byteIndex: Term, path: string): Uint8Array {
  return concat([OP.CREATE_DWORD_FIELD], term(source), term(byteIndex), nameString(path));
}

/** `CreateWordField (source, byteIndex, name)`. */
export function createWordField(source: Term, byteIndex: Term, path: string): Uint8Array {
  return concat([OP.CREATE_WORD_FIELD], term(source), term(byteIndex), nameString(path));
}

/** Operation region address spaces. */
export const REGION_SPACE = { SYSTEM_MEMORY: 0, SYSTEM_IO: 1, PCI_CONFIG: 2 } as const;

/** `OperationRegion (path, space, offset, length)`. */
export function operationRegion(
  path: string,
  space: number,
  offset: Term,
  length: Term,
): Uint8Array {
  return concat(
    [OP.EXT_PREFIX, EXT_OP.OP_REGION],
    nameString(path),
    [space],
    term(offset),
    term(
      length,
    ),
  );
}

/** Field access types (FieldFlags bits 3:0). */
export const FIELD_ACCESS = { ANY: 0, BYTE: 1, WORD: 2, DWORD: 3, QWORD: 4 } as const;
/** Field update rules (FieldFlags bits 6:5). */
export const FIELD_UPDATE = { PRESERVE: 0, WRITE_AS_ONES: 1, WRITE_AS_ZEROS: 2 } as const;

/** Options of {@link field}. */
export interface FieldOptions {
  readonly access: number;
  readonly lock?: boolean;
  readonly update?: number;
}

/**
 * `Field (region, access, lock, update) { name, bits ... }`: each element is
 * a [name, bit width] pair, or [null, bits] for a reserved (unnamed) gap.
 */
export function field(
  region: string,
  options: FieldOptions,
  elements: readonly (readonly [string | null, number])[],
): Uint8Array {
  const flags = options.access | (options.lock ? 1 << 4 : 0) | (options.update ?? 0) << 5;
  const list = elements.map(([n, bits]) =>
    concat(n === null ? [0x00] : nameSeg(n), encodePkgLength(bits))
  );
  return concat([OP.EXT_PREFIX, EXT_OP.FIELD], pkg(concat(nameString(region), [flags], ...list)));
}

// Resource descriptors (ACPI 6.4).

/** I/O port descriptor, 16-bit decode: `IO (Decode16, min, max, align, length)`. */
export function io(min: number, max: number, align: number, length: number): Uint8Array {
  return concat([0x47, 0x01], le(min, 2), le(max, 2), [align, length]);
}

/** `IRQNoFlags () { irqs }`: ISA edge-triggered, active-high interrupts. */
export function irqNoFlags(...irqs: number[]): Uint8Array {
  return concat([0x22], le(irqMask(irqs), 2));
}

/** Options of {@link irq} and {@link interrupt}. */
export interface IrqFlags {
  readonly level: boolean;
  readonly activeLow: boolean;
  readonly shared: boolean;
}

/** `IRQ (Edge|Level, ActiveHigh|ActiveLow, Exclusive|Shared) { irqs }`. */
export function irq(flags: IrqFlags, ...irqs: number[]): Uint8Array {
  const info = (flags.level ? 0 : 1) | (flags.activeLow ? 1 << 3 : 0) |
    (flags.shared ? 1 << 4 : 0);
  return concat([0x23], le(irqMask(irqs), 2), [info]);
}

/** `Interrupt (ResourceConsumer, ...) { irqs }`: the extended interrupt descriptor. */
export function interrupt(flags: IrqFlags, ...irqs: number[]): Uint8Array {
  if (irqs.length < 1 || irqs.length > 255) throw new RangeError("bad interrupt list");
  const info = 1 | (flags.level ? 0 : 1 << 1) | (flags.activeLow ? 1 << 2 : 0) |
    (flags.shared ? 1 << 3 : 0);
  const body = concat([info, irqs.length], ...irqs.map((i) => le(i, 4)));
  return concat([0x89], le(body.length, 2), body);
}

function irqMask(irqs: readonly number[]): number {
  let mask = 0;
  for (const i of irqs) {
    if (!Number.isInteger(i) || i < 0 || i > 15) throw new RangeError(`bad ISA IRQ ${i}`);
    mask |= 1 << i;
  }
  return mask;
}

/** Address space resource types. */
const RESOURCE_TYPE = { MEMORY: 0, IO: 1, BUS: 2 } as const;

/** A range a producer (bridge) decodes: inclusive bounds. */
export interface AddressRange {
  readonly min: number | bigint;
  readonly max: number | bigint;
}

/**
 * An address space descriptor (Word 0x88, DWord 0x87, QWord 0x8A) for a
 * producer with fixed, positively decoded bounds and no translation.
 */
function addressSpace(
  width: 2 | 4 | 8,
  type: number,
  typeFlags: number,
  range: AddressRange,
): Uint8Array {
  const min = BigInt(range.min);
  const max = BigInt(range.max);
  const limit = (1n << BigInt(8 * width)) - 1n;
  if (min < 0n || max < min || max > limit) {
    throw new RangeError(`bad ${8 * width}-bit range ${min}-${max}`);
  }
  const tag = width === 2 ? 0x88 : width === 4 ? 0x87 : 0x8a;
  // General flags: producer (bit 0 = 0), positive decode, MinFixed (bit 2), MaxFixed (bit 3).
  const general = 1 << 2 | 1 << 3;
  const fields = [0n, min, max, 0n, max - min + 1n].map((v) => leBytes(v, width));
  const body = concat([type, general, typeFlags], ...fields);
  return concat([tag], le(body.length, 2), body);
}

/** `WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, ...)`. */
export function wordBusNumber(range: AddressRange): Uint8Array {
  return addressSpace(2, RESOURCE_TYPE.BUS, 0, range);
}

/** `WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, ...)`. */
export function wordIo(range: AddressRange): Uint8Array {
  return addressSpace(2, RESOURCE_TYPE.IO, 3, range);
}

/** `DWordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, ...)`. */
export function dwordIo(range: AddressRange): Uint8Array {
  return addressSpace(4, RESOURCE_TYPE.IO, 3, range);
}

/** Memory attributes of a window. */
export interface MemoryFlags {
  /** Cacheable (true) or NonCacheable. */
  readonly cacheable: boolean;
}

function memoryFlags(flags: MemoryFlags): number {
  // Bit 0 read-write; bits 2:1 cacheability: 0 non-cacheable, 1 cacheable.
  return 1 | (flags.cacheable ? 1 << 1 : 0);
}

/** `DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, ..., ReadWrite, ...)`. */
export function dwordMemory(flags: MemoryFlags, range: AddressRange): Uint8Array {
  return addressSpace(4, RESOURCE_TYPE.MEMORY, memoryFlags(flags), range);
}

/** `QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, ..., ReadWrite, ...)`. */
export function qwordMemory(flags: MemoryFlags, range: AddressRange): Uint8Array {
  return addressSpace(8, RESOURCE_TYPE.MEMORY, memoryFlags(flags), range);
}

/**
 * `Memory32Fixed (ReadOnly | ReadWrite, base, length)`: a large resource
 * item, type 0x86, 9 bytes of data: bit 0 of the info byte read-write, then
 * the base and the length (ACPI 6.5 section 6.4.3.4).
 */
export function memory32Fixed(writable: boolean, base: number, length: number): Uint8Array {
  const out = new Uint8Array(12);
  const v = new DataView(out.buffer);
  out[0] = 0x86;
  v.setUint16(1, 9, true);
  out[3] = writable ? 1 : 0;
  v.setUint32(4, base, true);
  v.setUint32(8, length, true);
  return out;
}

/**
 * `ResourceTemplate () { descriptors }`: a Buffer holding the descriptors
 * and the End Tag, whose checksum makes the template's bytes sum to 0.
 */
export function resourceTemplate(...descriptors: Uint8Array[]): Uint8Array {
  const body = concat(...descriptors, [0x79, 0x00]);
  body[body.length - 1] = -body.reduce((s, b) => s + b, 0) & 0xff;
  return buffer(body);
}

/**
 * A resource template that AML code patches at run time (a link's current
 * IRQ): its End Tag checksum is 0, which the specification defines as
 * "not checked", since a computed one would go stale.
 */
export function mutableResourceTemplate(...descriptors: Uint8Array[]): Uint8Array {
  return buffer(concat(...descriptors, [0x79, 0x00]));
}

function leBytes(v: bigint, bytes: number): number[] {
  return Array.from({ length: bytes }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

function le(v: number, bytes: number): number[] {
  return leBytes(BigInt(v), bytes);
}
