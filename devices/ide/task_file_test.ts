import { deepStrictEqual, strictEqual } from "node:assert";
import { TaskFile } from "./task_file.ts";

Deno.test("task file: each write pushes the old byte into the HOB half", () => {
  const tf = new TaskFile();
  tf.write(2, 0x12);
  tf.write(2, 0x34);
  deepStrictEqual([tf.read(2, false), tf.read(2, true)], [0x34, 0x12]);
  strictEqual(tf.count48(), 0x1234);
  strictEqual(tf.count28(), 0x34);
});

Deno.test("task file: counts of zero mean 256 and 65536", () => {
  const tf = new TaskFile();
  strictEqual(tf.count28(), 256);
  strictEqual(tf.count48(), 65536);
});

Deno.test("task file: 28- and 48-bit addresses round-trip", () => {
  const tf = new TaskFile();
  tf.write(6, 0xe0);
  tf.setLba28(0x0abcdef1);
  strictEqual(tf.lba28(), 0x0abcdef1);
  strictEqual(tf.read(6, false), 0xea);
  strictEqual(tf.lbaMode, true);
  tf.setLba48(0x123456789abc);
  strictEqual(tf.lba48(), 0x123456789abc);
  deepStrictEqual([tf.read(3, true), tf.read(4, true), tf.read(5, true)], [0x56, 0x34, 0x12]);
});

Deno.test("task file: signature leaves the device register alone", () => {
  const tf = new TaskFile();
  tf.write(6, 0xb0);
  tf.setSignature(0x14, 0xeb);
  deepStrictEqual([tf.read(2, false), tf.read(3, false), tf.read(4, false), tf.read(5, false)], [
    1,
    1,
    0x14,
    0xeb,
  ]);
  strictEqual(tf.read(6, false), 0xb0);
  strictEqual(tf.read(7, false), 0xff);
});
