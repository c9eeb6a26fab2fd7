import { deepStrictEqual, rejects, strictEqual } from "node:assert";
import sharp from "../deps/sharp_npm.ts";
import { encodePng } from "./png.ts";

Deno.test("encodePng: a PNG that decodes back to the same RGBA", async () => {
  const width = 5, height = 3;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37) & 0xff;
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  const png = await encodePng({ width, height, rgba });
  deepStrictEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  deepStrictEqual([info.width, info.height, info.channels], [width, height, 4]);
  deepStrictEqual(new Uint8Array(data), rgba);
});

Deno.test("encodePng: refuses empty images and mismatched buffers", async () => {
  await rejects(encodePng({ width: 0, height: 4, rgba: new Uint8Array(0) }), RangeError);
  await rejects(encodePng({ width: 2, height: 2, rgba: new Uint8Array(15) }), RangeError);
  strictEqual((await encodePng({ width: 1, height: 1, rgba: new Uint8Array(4) })).length > 0, true);
});
