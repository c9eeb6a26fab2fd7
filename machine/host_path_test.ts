import { deepStrictEqual, strictEqual, throws } from "node:assert";
import {
  decodePathBytes,
  displayPath,
  encodePathBytes,
  hasEscapedBytes,
  openablePath,
} from "./host_path.ts";

Deno.test("bytes that are not UTF-8 survive decoding and encoding; UTF-8 stays text", () => {
  const cases = [
    [0x61, 0xff, 0x62],
    [0xc3, 0xa9], // é
    [0xc3], // cut short
    [0xe0, 0x80, 0x80], // overlong
    [0xed, 0xa0, 0x80], // an encoded surrogate
    [0xf0, 0x9f, 0x98, 0x80, 0x80], // 😀 then a stray continuation byte
  ];
  for (const bytes of cases) {
    const text = decodePathBytes(Uint8Array.from(bytes));
    deepStrictEqual([...encodePathBytes(text)], bytes, JSON.stringify(text));
  }
  strictEqual(decodePathBytes(Uint8Array.from([0xc3, 0xa9])), "é");
  strictEqual(hasEscapedBytes("é"), false);
  strictEqual(hasEscapedBytes(decodePathBytes(Uint8Array.from([0xff]))), true);
});

Deno.test("messages show escaped bytes as \\xHH", () => {
  strictEqual(displayPath(decodePathBytes(new TextEncoder().encode("/tmp/a\xff"))), "/tmp/aÿ");
  strictEqual(displayPath(decodePathBytes(Uint8Array.from([0x2f, 0x61, 0xff, 0x62]))), "/a\\xffb");
});

Deno.test("a file named with a 0xff byte opens through its handle", () => {
  const dir = Deno.makeTempDirSync();
  const raw = Uint8Array.from([...new TextEncoder().encode(`${dir}/a`), 0xff, 0x2e, 0x69]);
  const name = decodePathBytes(raw);
  // Create it through the parent directory's handle-free way: a shell knows bytes.
  const made = new Deno.Command("sh", {
    args: ["-c", `printf 'data' > "$(printf '${dir}/a\\377.i')"`],
  }).outputSync();
  strictEqual(made.code, 0);
  const path = openablePath(name);
  strictEqual(path.startsWith("/proc/self/fd/"), true, path);
  strictEqual(new TextDecoder().decode(Deno.readFileSync(path)), "data");
  strictEqual(openablePath(name), path, "one handle per name");
  strictEqual(openablePath(`${dir}/plain`), `${dir}/plain`);
  throws(
    () => openablePath(decodePathBytes(Uint8Array.from([...raw, 0x78]))),
    Deno.errors.NotFound,
  );
});
