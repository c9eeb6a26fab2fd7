import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { StateShape } from "./state_shape.ts";
import { StateError } from "./types.ts";

function assertThrows(f: () => unknown, type: typeof StateError, text: string): void {
  throws(f, (e) => e instanceof type && e.message.includes(text));
}

Deno.test("StateShape.versioned refuses a non-object, a byte array and another version", () => {
  for (const bad of [null, 1, [], new Uint8Array(1)]) {
    assertThrows(() => StateShape.versioned("dev", bad, 1), StateError, "state is not an object");
  }
  assertThrows(() => StateShape.versioned("dev", { version: 2 }, 1), StateError, "version 2");
});

Deno.test("StateShape names the field path of a bad nested value", () => {
  const s = StateShape.versioned("dev", { version: 1, list: [{ a: 1 }, { a: 300 }] }, 1);
  assertEquals(s.objects("list")[0].int("a", 0, 0xff), 1);
  assertThrows(() => s.objects("list")[1].int("a", 0, 0xff), StateError, "state.list[1].a:");
});

Deno.test("StateShape.ints wants an exact length, intsUpTo at most", () => {
  const s = new StateShape("dev", { x: [1, 2], q: [[1], [2, 3]] });
  assertEquals(s.ints("x", 0, 9, 2), [1, 2]);
  assertThrows(() => s.ints("x", 0, 9, 3), StateError, "must have 3 elements");
  assertEquals(s.intsUpTo("x", 0, 9, 3), [1, 2]);
  assertThrows(() => s.intsUpTo("x", 0, 9, 1), StateError, "at most 1");
  assertThrows(() => s.ints("x", 2, 9), StateError, "state.x[0]:");
  assertEquals(s.intLists("q", 0, 9, 2, 2), [[1], [2, 3]]);
  assertThrows(() => s.intLists("q", 0, 9, 2, 1), StateError, "state.q[1]:");
});

Deno.test("StateShape copies what it returns", () => {
  const bytes = new Uint8Array([1, 2]);
  const s = new StateShape("dev", { bytes, n: -1.5, t: null, names: ["a"] });
  const copy = s.bytes("bytes", 2);
  copy[0] = 9;
  assertEquals(bytes[0], 1);
  assertEquals(s.number("n"), -1.5);
  assertEquals(s.numberOrNull("t"), null);
  assertEquals(s.strings("names"), ["a"]);
  assertThrows(() => s.strings("n"), StateError, "must be an array");
});
