/**
 * Shape checks for saved device states: a restore reads every field through
 * a {@link StateShape}, which throws a {@link StateError} naming the device
 * and the field path on a wrong version, a missing field, a wrong type or a
 * value out of range. Restores check the whole state before changing the
 * device, so a refused state leaves it untouched.
 *
 * @module
 */

import { StateError } from "./types.ts";

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isIntIn(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

/** A view of one object of a saved state, with typed, range-checked field readers. */
export class StateShape {
  readonly #o: Obj;

  /**
   * @param device the device name StateError reports
   * @param value the object to read (anything else, arrays and byte arrays included, is refused)
   * @param path where `value` sits in the state, for messages
   */
  constructor(readonly device: string, value: unknown, readonly path = "state") {
    if (!isObject(value)) throw new StateError(device, `${path} is not an object`);
    this.#o = value;
  }

  /** Checks that `value` is an object whose `version` is `version`. */
  static versioned(device: string, value: unknown, version: number): StateShape {
    const s = new StateShape(device, value);
    const v = s.#o.version;
    if (v !== version) {
      throw new StateError(device, `unknown state version ${String(v)} (expected ${version})`);
    }
    return s;
  }

  /** Throws a StateError about field `key`. */
  fail(key: string, why: string): never {
    throw new StateError(this.device, `${this.path}.${key}: ${why}`);
  }

  /** An integer in `[min, max]` (by default any non-negative safe integer). */
  int(key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.#o[key];
    if (!isIntIn(v, min, max)) {
      this.fail(key, `must be an integer in [${min}, ${max}], got ${String(v)}`);
    }
    return v;
  }

  /** An integer in `[min, max]`, or null. */
  intOrNull(key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | null {
    return this.#o[key] === null ? null : this.int(key, min, max);
  }

  /** A finite number (a time that may be negative or fractional). */
  number(key: string): number {
    const v = this.#o[key];
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(key, "must be a finite number");
    return v;
  }

  /** A finite number, or null (a timer that is not armed). */
  numberOrNull(key: string): number | null {
    return this.#o[key] === null ? null : this.number(key);
  }

  /** A boolean. */
  bool(key: string): boolean {
    const v = this.#o[key];
    if (typeof v !== "boolean") this.fail(key, "must be a boolean");
    return v;
  }

  /** A string. */
  string(key: string): string {
    const v = this.#o[key];
    if (typeof v !== "string") this.fail(key, "must be a string");
    return v;
  }

  /** A string, or null. */
  stringOrNull(key: string): string | null {
    return this.#o[key] === null ? null : this.string(key);
  }

  /** A copy of an array of strings. */
  strings(key: string): string[] {
    return this.array(key).map((v, i) => {
      if (typeof v !== "string") this.fail(`${key}[${i}]`, "must be a string");
      return v;
    });
  }

  /** One of `values` (compared with ===). */
  oneOf<T>(key: string, values: readonly T[]): T {
    const v = this.#o[key] as T;
    if (!values.includes(v)) this.fail(key, `must be one of ${values.join(", ")}`);
    return v;
  }

  /** A copy of a Uint8Array field, of exactly `length` bytes when given. */
  bytes(key: string, length?: number): Uint8Array<ArrayBuffer> {
    const v = this.#o[key];
    if (!(v instanceof Uint8Array)) this.fail(key, "must be a Uint8Array");
    if (length !== undefined && v.length !== length) {
      this.fail(key, `must be ${length} bytes, got ${v.length}`);
    }
    return v.slice();
  }

  /** A copy of an array of exactly `length` integers in `[min, max]` (any length when omitted). */
  ints(key: string, min: number, max: number, length?: number): number[] {
    return checkInts(this.array(key, length), min, max, (i, why) => this.fail(`${key}[${i}]`, why));
  }

  /** A copy of an array of at most `maxLength` integers in `[min, max]`. */
  intsUpTo(key: string, min: number, max: number, maxLength: number): number[] {
    return checkInts(this.arrayUpTo(key, maxLength), min, max, (i, why) => {
      this.fail(`${key}[${i}]`, why);
    });
  }

  /**
   * A copy of an array of at most `maxLength` lists, each at most `maxItem`
   * integers in `[min, max]` (a queue of byte sequences).
   */
  intLists(key: string, min: number, max: number, maxLength: number, maxItem: number): number[][] {
    return this.arrayUpTo(key, maxLength).map((item, i) => {
      const at = `${key}[${i}]`;
      if (!Array.isArray(item)) this.fail(at, "must be an array");
      if (item.length > maxItem) this.fail(at, `must have at most ${maxItem} elements`);
      return checkInts(item, min, max, (j, why) => this.fail(`${at}[${j}]`, why));
    });
  }

  /** An array field, of exactly `length` elements when given. */
  array(key: string, length?: number): unknown[] {
    const v = this.#o[key];
    if (!Array.isArray(v)) this.fail(key, "must be an array");
    if (length !== undefined && v.length !== length) {
      this.fail(key, `must have ${length} elements, got ${v.length}`);
    }
    return v;
  }

  /** An array field of at most `maxLength` elements. */
  arrayUpTo(key: string, maxLength: number): unknown[] {
    const v = this.array(key);
    if (v.length > maxLength) this.fail(key, `must have at most ${maxLength} elements`);
    return v;
  }

  /** The raw value of `key` (for fields another parser checks). */
  raw(key: string): unknown {
    return this.#o[key];
  }

  /** A nested object. */
  object(key: string): StateShape {
    return new StateShape(this.device, this.#o[key], `${this.path}.${key}`);
  }

  /** A nested object read by `read`, or null. */
  objectOrNull<T>(key: string, read: (s: StateShape) => T): T | null {
    return this.#o[key] === null ? null : read(this.object(key));
  }

  /** Each element of an array of objects (at most `maxLength`), as a nested shape. */
  objects(key: string, maxLength = Infinity): StateShape[] {
    return this.arrayUpTo(key, maxLength).map((v, i) =>
      new StateShape(this.device, v, `${this.path}.${key}[${i}]`)
    );
  }
}

function checkInts(
  v: unknown[],
  min: number,
  max: number,
  fail: (i: number, why: string) => never,
): number[] {
  return v.map((x, i) => {
    if (!isIntIn(x, min, max)) fail(i, `must be an integer in [${min}, ${max}]`);
    return x;
  });
}
