import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { FileBackend, SnapshotBackend } from "./disk_backend.ts";

function image(bytes: number[]): string {
  const path = Deno.makeTempFileSync();
  Deno.writeFileSync(path, Uint8Array.from(bytes));
  return path;
}

Deno.test("FileBackend reads, writes in place and zero-fills past the end", () => {
  const path = image([1, 2, 3, 4, 5, 6, 7, 8]);
  const b = new FileBackend(path, false);
  strictEqual(b.size, 8);
  const buf = new Uint8Array(6);
  b.read(4, buf);
  deepStrictEqual([...buf], [5, 6, 7, 8, 0, 0]);
  b.write(2, Uint8Array.from([9, 9]));
  b.close();
  deepStrictEqual([...Deno.readFileSync(path)], [1, 2, 9, 9, 5, 6, 7, 8]);
});

Deno.test("FileBackend refuses writes when read-only or past the end", () => {
  const b = new FileBackend(image([0, 0, 0, 0]), true);
  throws(() => b.write(0, Uint8Array.from([1])), /read-only/);
  b.close();
  const w = new FileBackend(image([0, 0, 0, 0]), false);
  throws(() => w.write(3, Uint8Array.from([1, 2])), RangeError);
  w.close();
});

Deno.test("SnapshotBackend keeps writes in memory across chunk boundaries and never writes the file", () => {
  const bytes = Array.from({ length: 3 * 4096 }, (_, i) => i & 0xff);
  const path = image(bytes);
  const base = new FileBackend(path, true);
  const snap = new SnapshotBackend(base);
  const data = new Uint8Array(5000).fill(0xee);
  snap.write(4000, data);
  const back = new Uint8Array(5200);
  snap.read(3900, back);
  deepStrictEqual([...back.subarray(0, 100)], bytes.slice(3900, 4000));
  deepStrictEqual([...back.subarray(100, 5100)], [...data]);
  deepStrictEqual([...back.subarray(5100)], bytes.slice(9000, 9100));
  strictEqual(snap.overlayBytes, 3 * 4096);
  snap.flush();
  base.close();
  deepStrictEqual([...Deno.readFileSync(path)], bytes);
});
