import { strictEqual } from "node:assert";
import {
  GC_DATA_ROTATE,
  GC_MISC,
  GC_MODE,
  GC_READ_MAP_SELECT,
  GraphicsController,
} from "./graphics_controller.ts";

function write(gc: GraphicsController, index: number, value: number): void {
  gc.writeIndex(index);
  gc.writeData(value);
}

Deno.test("graphics controller: reserved bits read as zero", () => {
  const gc = new GraphicsController();
  const expected = [0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff];
  for (let i = 0; i < 9; i++) {
    write(gc, i, 0xff);
    strictEqual(gc.readData(), expected[i], `register ${i}`);
  }
  gc.writeIndex(9);
  strictEqual(gc.readData(), 0xff);
});

Deno.test("graphics controller: data rotate splits count and function", () => {
  const gc = new GraphicsController();
  write(gc, GC_DATA_ROTATE, 0x1b);
  strictEqual(gc.rotateCount, 3);
  strictEqual(gc.logicalOp, "xor");
  write(gc, GC_DATA_ROTATE, 0x08);
  strictEqual(gc.logicalOp, "and");
  write(gc, GC_DATA_ROTATE, 0x10);
  strictEqual(gc.logicalOp, "or");
  write(gc, GC_DATA_ROTATE, 0x00);
  strictEqual(gc.logicalOp, "none");
});

Deno.test("graphics controller: mode and misc decode", () => {
  const gc = new GraphicsController();
  write(gc, GC_MODE, 0x10); // mode 3
  strictEqual(gc.writeMode, 0);
  strictEqual(gc.readMode, 0);
  strictEqual(gc.oddEvenReads, true);
  write(gc, GC_MODE, 0x0b);
  strictEqual(gc.writeMode, 3);
  strictEqual(gc.readMode, 1);
  strictEqual(gc.oddEvenReads, false);
  write(gc, GC_MISC, 0x0e); // mode 3: B8000, chain odd/even, text
  strictEqual(gc.memoryMap, 3);
  strictEqual(gc.graphicsMode, false);
  write(gc, GC_MISC, 0x05); // mode 13h: A0000 64K, graphics
  strictEqual(gc.memoryMap, 1);
  strictEqual(gc.graphicsMode, true);
  write(gc, GC_READ_MAP_SELECT, 0x06);
  strictEqual(gc.readMapSelect, 2);
});
