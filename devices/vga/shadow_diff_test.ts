import { deepStrictEqual } from "node:assert";
import { ShadowDiff } from "./shadow_diff.ts";

Deno.test("shadow diff: changed spans update the shadow; rows close together make one rect", () => {
  const stride = 8;
  const shadow = new Uint32Array(stride * 20);
  const diff = new ShadowDiff(shadow, stride);
  const row = new Uint32Array(stride);
  diff.row(row, 0, 0, stride); // unchanged
  row[2] = 7;
  row[3] = 7;
  diff.row(row, 1, 0, stride);
  row.fill(0);
  row[5] = 9;
  diff.row(row, 4, 0, stride); // within the merge gap of row 1
  row.fill(0);
  row[1] = 3;
  row[6] = 3; // outside the span given: not looked at
  diff.row(row, 15, 0, 4);
  const rects = diff.rects().map((r) => ({
    ...r,
    rgba: [...new Uint32Array(r.rgba.buffer)],
  }));
  deepStrictEqual(rects, [
    { x: 2, y: 1, width: 4, height: 4, rgba: [7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9] },
    { x: 1, y: 15, width: 1, height: 1, rgba: [3] },
  ]);
  deepStrictEqual([shadow[15 * stride + 1], shadow[15 * stride + 6]], [3, 0]);
});
