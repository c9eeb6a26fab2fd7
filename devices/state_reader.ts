/**
 * Checked reading of a saved device state for `restore()`: every field is
 * tested for its type and range before the device touches its registers, so
 * a malformed or foreign state fails with one {@link StateError} naming the
 * device and the field, and the device is left as it was.
 *
 * @module
 */

import { StateError } from "./types.ts";

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Reads the fields of one saved state, throwing {@link StateError} on the first bad one. */
export class StateReader {
  readonly #s: Obj;

  /**
   * @param device the device name used in errors
   * @param state the saved state as given to `restore()`
   * @param version the only version this device restores
   * @throws {StateError} when `state` is not an object or has another version
   */
  constructor(readonly device: string, state: unknown, version: number) {
    if (!isObject(state)) throw new StateError(device, "state is not an object");
    if (state.version !== version) {
      throw new StateError(device, `unknown state version ${String(state.version)}`);
    }
    this.#s = state;
  }

  #fail(key: string, what: string): never {
    throw new StateError(this.device, `${key}: ${what}`);
  }

  /** An integer in [min, max]. */
  int(key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.#s[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.#fail(key, `expected an integer in ${min}..${max}, got ${String(v)}`);
    }
    return v;
  }

  /** An integer in [min, max], or null. */
  intOrNull(key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | null {
    return this.#s[key] === null ? null : this.int(key, min, max);
  }

  /** A finite number (a time that may be negative or fractional). */
  number(key: string): number {
    const v = this.#s[key];
    if (typeof v !== "number" || !Number.isFinite(v)) this.#fail(key, "expected a finite number");
    return v;
  }

  /** A finite number, or null (a timer that is not armed). */
  numberOrNull(key: string): number | null {
    return this.#s[key] === null ? null : this.number(key);
  }

  /** A boolean. */
  bool(key: string): boolean {
    const v = this.#s[key];
    if (typeof v !== "boolean") this.#fail(key, "expected a boolean");
    return v;
  }

  /** One of `values`. */
  oneOf<T>(key: string, values: readonly T[]): T {
    const v = this.#s[key] as T;
    if (!values.includes(v)) this.#fail(key, `expected one of ${values.join(", ")}`);
    return v;
  }

  /** A copy of a byte array of exactly `length` bytes (any length when omitted). */
  bytes(key: string, length?: number): Uint8Array<ArrayBuffer> {
    const v = this.#s[key];
    if (!(v instanceof Uint8Array)) this.#fail(key, "expected a Uint8Array");
    if (length !== undefined && v.length !== length) this.#fail(key, `expected ${length} bytes`);
    return new Uint8Array(v);
  }

  /** A copy of an array of integers in [min, max], at most `maxLength` long. */
  ints(key: string, min: number, max: number, maxLength = Infinity): number[] {
    return checkInts(this.#s[key], min, max, maxLength, (what) => this.#fail(key, what));
  }

  /** A copy of an array of byte arrays (as number lists), each at most `maxItem` long. */
  intLists(key: string, min: number, max: number, maxLength: number, maxItem: number): number[][] {
    const v = this.#s[key];
    if (!Array.isArray(v) || v.length > maxLength) {
      this.#fail(key, `expected an array of at most ${maxLength} lists`);
    }
    return v.map((item, i) =>
      checkInts(item, min, max, maxItem, (what) => this.#fail(`${key}[${i}]`, what))
    );
  }

  /** A copy of an array of strings. */
  strings(key: string): string[] {
    const v = this.#s[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      this.#fail(key, "expected an array of strings");
    }
    return [...v];
  }

  /** A nested object, read with its own reader (no version of its own). */
  object(key: string): StateReader {
    const v = this.#s[key];
    if (!isObject(v)) this.#fail(key, "expected an object");
    return new StateReader(`${this.device}.${key}`, { ...v, version: 0 }, 0);
  }

  /** Each element of an object array, read with its own reader, at most `maxLength`. */
  objects(key: string, maxLength = Infinity): StateReader[] {
    const v = this.#s[key];
    if (!Array.isArray(v) || v.length > maxLength) this.#fail(key, "expected an array of objects");
    return v.map((item, i) => {
      if (!isObject(item)) this.#fail(`${key}[${i}]`, "expected an object");
      return new StateReader(`${this.device}.${key}[${i}]`, { ...item, version: 0 }, 0);
    });
  }

  /** The raw value of a nested state another device's `restore()` checks. */
  raw(key: string): unknown {
    return this.#s[key];
  }

  /** Throws a {@link StateError} about `key`. */
  fail(key: string, what: string): never {
    this.#fail(key, what);
  }
}

function checkInts(
  v: unknown,
  min: number,
  max: number,
  maxLength: number,
  fail: (what: string) => never,
): number[] {
  if (!Array.isArray(v) || v.length > maxLength) {
    fail(`expected an array of at most ${maxLength} integers`);
  }
  for (const x of v) {
    if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) {
      fail(`expected integers in ${min}..${max}`);
    }
  }
  return [...v];
}
