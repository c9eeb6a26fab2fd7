import { deepStrictEqual, strictEqual } from "node:assert";
import {
  GC_BIT_MASK,
  GC_COLOR_COMPARE,
  GC_COLOR_DONT_CARE,
  GC_DATA_ROTATE,
  GC_ENABLE_SET_RESET,
  GC_MISC,
  GC_MODE,
  GC_READ_MAP_SELECT,
  GC_SET_RESET,
  GraphicsController,
} from "./graphics_controller.ts";
import { SEQ_MAP_MASK, SEQ_MEMORY_MODE, Sequencer } from "./sequencer.ts";
import { PLANAR_SIZE, VideoMemory } from "./video_memory.ts";

function setup(): { mem: VideoMemory; seq: Sequencer; gc: GraphicsController } {
  const seq = new Sequencer();
  const gc = new GraphicsController();
  const mem = new VideoMemory(new Uint8Array(PLANAR_SIZE), seq, gc);
  return { mem, seq, gc };
}

/** Unchained planar 16-colour setup (mode 12h style) with the bit mask open. */
function planar() {
  const s = setup();
  s.seq.set(SEQ_MAP_MASK, 0x0f);
  s.seq.set(SEQ_MEMORY_MODE, 0x06);
  s.gc.set(GC_MISC, 0x05); // A0000 64K, graphics
  s.gc.set(GC_BIT_MASK, 0xff);
  return s;
}

function planes(mem: VideoMemory, offset: number): number[] {
  return [0, 1, 2, 3].map((p) => mem.planeByte(p, offset));
}

function setPlanes(mem: VideoMemory, offset: number, values: number[]): void {
  values.forEach((v, p) => mem.vram[offset * 4 + p] = v);
}

Deno.test("video memory: odd/even text writes at B8000 land in planes 0 and 1", () => {
  const { mem, seq, gc } = setup();
  seq.set(SEQ_MAP_MASK, 0x03);
  seq.set(SEQ_MEMORY_MODE, 0x02);
  gc.set(GC_MODE, 0x10);
  gc.set(GC_MISC, 0x0e);
  gc.set(GC_BIT_MASK, 0xff);
  mem.write(0x18000, 1, 0x41); // 'A'
  mem.write(0x18001, 1, 0x1f); // white on blue
  mem.write(0x18002, 2, 0x4e42); // 'B', yellow on red
  deepStrictEqual(planes(mem, 0), [0x41, 0x1f, 0, 0]);
  deepStrictEqual(planes(mem, 2), [0x42, 0x4e, 0, 0]);
  deepStrictEqual(planes(mem, 1), [0, 0, 0, 0]);
  strictEqual(mem.read(0x18000, 1), 0x41);
  strictEqual(mem.read(0x18001, 1), 0x1f);
  strictEqual(mem.read(0x18002, 2), 0x4e42);
  // Outside the B8000 map nothing decodes.
  strictEqual(mem.read(0x10000, 1), 0xff);
  mem.write(0x00000, 1, 0x99);
  deepStrictEqual(planes(mem, 0), [0x41, 0x1f, 0, 0]);
});

Deno.test("video memory: odd/even writes reach plane 2 when the map mask enables it", () => {
  const { mem, seq, gc } = setup();
  seq.set(SEQ_MAP_MASK, 0x0f);
  seq.set(SEQ_MEMORY_MODE, 0x02);
  gc.set(GC_MISC, 0x0e);
  gc.set(GC_BIT_MASK, 0xff);
  mem.write(0x18004, 1, 0x11);
  mem.write(0x18005, 1, 0x22);
  deepStrictEqual(planes(mem, 4), [0x11, 0x22, 0x11, 0x22]);
});

Deno.test("video memory: memory map select", () => {
  const { mem, seq, gc } = planar();
  seq.set(SEQ_MAP_MASK, 0x01);
  gc.set(GC_MISC, 0x09); // B0000 32K
  mem.write(0x10003, 1, 0x5a);
  strictEqual(mem.planeByte(0, 3), 0x5a);
  strictEqual(mem.read(0x18000, 1), 0xff);
  gc.set(GC_MISC, 0x01); // A0000 128K: offsets wrap at the plane size
  mem.write(0x10004, 1, 0x6b);
  strictEqual(mem.planeByte(0, 4), 0x6b);
  gc.set(GC_MISC, 0x05); // A0000 64K
  strictEqual(mem.read(0x10000, 1), 0xff);
  strictEqual(mem.read(0x00003, 1), 0x5a);
});

Deno.test("video memory: chain-4 picks the plane from the low address bits", () => {
  const { mem, seq, gc } = planar();
  seq.set(SEQ_MEMORY_MODE, 0x0e); // mode 13h
  gc.set(GC_MODE, 0x40);
  for (let i = 0; i < 8; i++) mem.write(i, 1, 0x10 + i);
  deepStrictEqual(planes(mem, 0), [0x10, 0x11, 0x12, 0x13]);
  deepStrictEqual(planes(mem, 4), [0x14, 0x15, 0x16, 0x17]);
  strictEqual(mem.read(5, 1), 0x15);
  strictEqual(mem.read(4, 4), 0x17161514);
  seq.set(SEQ_MAP_MASK, 0x0e); // plane 0 write-disabled
  mem.write(8, 1, 0xee);
  strictEqual(mem.planeByte(0, 8), 0);
});

Deno.test("video memory: read mode 0 returns the selected plane and loads all latches", () => {
  const { mem, gc } = planar();
  setPlanes(mem, 0x100, [1, 2, 3, 4]);
  gc.set(GC_READ_MAP_SELECT, 2);
  strictEqual(mem.read(0x100, 1), 3);
  deepStrictEqual([...mem.latches], [1, 2, 3, 4]);
});

Deno.test("video memory: write mode 0 with set/reset and bit mask", () => {
  const { mem, gc } = planar();
  gc.set(GC_ENABLE_SET_RESET, 0x0f);
  gc.set(GC_SET_RESET, 0x05);
  gc.set(GC_BIT_MASK, 0x0f);
  mem.write(0, 1, 0x00); // latches are zero
  deepStrictEqual(planes(mem, 0), [0x0f, 0x00, 0x0f, 0x00]);
  // Only planes with set/reset enabled take it; the others take host data.
  gc.set(GC_ENABLE_SET_RESET, 0x01);
  gc.set(GC_BIT_MASK, 0xff);
  mem.write(1, 1, 0x3c);
  deepStrictEqual(planes(mem, 1), [0xff, 0x3c, 0x3c, 0x3c]);
});

Deno.test("video memory: write mode 0 rotate and logical operations use the latches", () => {
  const { mem, gc } = planar();
  gc.set(GC_DATA_ROTATE, 0x04); // rotate right 4, no operation
  mem.write(0, 1, 0x0f);
  deepStrictEqual(planes(mem, 0), [0xf0, 0xf0, 0xf0, 0xf0]);
  setPlanes(mem, 1, [0xcc, 0xcc, 0xcc, 0xcc]);
  for (const [op, expected] of [[0x08, 0x0c], [0x10, 0xcf], [0x18, 0xc3]]) {
    setPlanes(mem, 1, [0xcc, 0xcc, 0xcc, 0xcc]);
    gc.set(GC_DATA_ROTATE, op); // AND, OR, XOR with the latches
    mem.read(1, 1);
    mem.write(1, 1, 0x0f);
    deepStrictEqual(planes(mem, 1), [expected, expected, expected, expected], `op ${op}`);
  }
});

Deno.test("video memory: write mode 1 copies the latches", () => {
  const { mem, gc } = planar();
  setPlanes(mem, 0x20, [0xa1, 0xb2, 0xc3, 0xd4]);
  gc.set(GC_BIT_MASK, 0x00); // ignored in write mode 1
  gc.set(GC_MODE, 0x01);
  mem.read(0x20, 1);
  mem.write(0x40, 1, 0x00);
  deepStrictEqual(planes(mem, 0x40), [0xa1, 0xb2, 0xc3, 0xd4]);
});

Deno.test("video memory: write mode 2 expands the colour, bit mask keeps latch bits", () => {
  const { mem, gc } = planar();
  setPlanes(mem, 3, [0x3c, 0x3c, 0x3c, 0x3c]);
  gc.set(GC_MODE, 0x02);
  gc.set(GC_BIT_MASK, 0x81);
  mem.read(3, 1);
  mem.write(3, 1, 0x0a); // colour 1010b
  deepStrictEqual(planes(mem, 3), [0x3c, 0xbd, 0x3c, 0xbd]);
});

Deno.test("video memory: write mode 3 ANDs rotated data into the bit mask", () => {
  const { mem, gc } = planar();
  setPlanes(mem, 7, [0x01, 0x01, 0x01, 0x01]);
  gc.set(GC_MODE, 0x03);
  gc.set(GC_SET_RESET, 0x0c);
  gc.set(GC_ENABLE_SET_RESET, 0x00); // ignored in write mode 3
  gc.set(GC_BIT_MASK, 0x3c);
  gc.set(GC_DATA_ROTATE, 0x01); // 0xe0 rotated right 1 = 0x70
  mem.read(7, 1);
  mem.write(7, 1, 0xe0);
  // Effective mask 0x70 & 0x3c = 0x30: planes 2,3 get those bits set, 0,1 cleared.
  deepStrictEqual(planes(mem, 7), [0x01, 0x01, 0x31, 0x31]);
});

Deno.test("video memory: read mode 1 compares colours across planes", () => {
  const { mem, gc } = planar();
  setPlanes(mem, 9, [0xf0, 0xcc, 0xaa, 0x00]);
  gc.set(GC_MODE, 0x08);
  gc.set(GC_COLOR_COMPARE, 0x03);
  gc.set(GC_COLOR_DONT_CARE, 0x0f);
  strictEqual(mem.read(9, 1), 0x40); // pixel colours: 0011b only at bit 6
  gc.set(GC_COLOR_DONT_CARE, 0x03); // ignore planes 2 and 3
  strictEqual(mem.read(9, 1), 0xc0);
  gc.set(GC_COLOR_DONT_CARE, 0x00); // nothing compared: every pixel matches
  strictEqual(mem.read(9, 1), 0xff);
  deepStrictEqual([...mem.latches], [0xf0, 0xcc, 0xaa, 0x00]);
});

Deno.test("video memory: map mask limits planar writes", () => {
  const { mem, seq } = planar();
  seq.set(SEQ_MAP_MASK, 0x06);
  mem.write(0x11, 1, 0x77);
  deepStrictEqual(planes(mem, 0x11), [0, 0x77, 0x77, 0]);
});

Deno.test("video memory: block access repeats one address", () => {
  const { mem, seq } = planar();
  seq.set(SEQ_MAP_MASK, 0x01);
  mem.writeBlock(0x30, 1, new Uint8Array([1, 2, 3]));
  strictEqual(mem.planeByte(0, 0x30), 3);
  const dst = new Uint8Array(4);
  mem.readBlock(0x30, 2, dst);
  deepStrictEqual([...dst], [3, 0, 3, 0]);
});
