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

/** A view of one object of a saved state, with typed, range-checked field readers. */
export class StateShape {
  readonly #o: Record<string, unknown>;

  /**
   * @param device the device name StateError reports
   * @param value the object to read (anything else is refused)
   * @param path where `value` sits in the state, for messages
   */
  constructor(readonly device: string, value: unknown, readonly path = "state") {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new StateError(device, `${path} is not an object`);
    }
    this.#o = value as Record<string, unknown>;
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
    throw new StateError(this.device, `${this.path}.${key} ${why}`);
  }

  /** An integer in `[min, max]`. */
  int(key: string, min: number, max: number): number {
    const v = this.#o[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.fail(key, `must be an integer in [${min}, ${max}], got ${String(v)}`);
    }
    return v;
  }

  /** An integer in `[min, max]`, or null. */
  intOrNull(key: string, min: number, max: number): number | null {
    return this.#o[key] === null ? null : this.int(key, min, max);
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

  /** One of `values` (compared with ===). */
  oneOf<T>(key: string, values: readonly T[]): T {
    const v = this.#o[key] as T;
    if (!values.includes(v)) this.fail(key, `must be one of ${values.join(", ")}`);
    return v;
  }

  /** A copy of a Uint8Array field, of exactly `length` bytes when given. */
  bytes(key: string, length?: number): Uint8Array {
    const v = this.#o[key];
    if (!(v instanceof Uint8Array)) this.fail(key, "must be a Uint8Array");
    if (length !== undefined && v.length !== length) {
      this.fail(key, `must be ${length} bytes, got ${v.length}`);
    }
    return v.slice();
  }

  /** An array of `length` integers in `[min, max]` (any length when omitted). */
  ints(key: string, min: number, max: number, length?: number): number[] {
    return this.array(key, length).map((v, i) => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
        this.fail(`${key}[${i}]`, `must be an integer in [${min}, ${max}]`);
      }
      return v;
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
}
