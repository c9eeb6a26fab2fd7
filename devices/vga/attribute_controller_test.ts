import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import { ATTR_MODE_CONTROL, AttributeController } from "./attribute_controller.ts";

Deno.test("attribute: writes alternate between index and data", () => {
  const ac = new AttributeController();
  ac.write(0x01);
  strictEqual(ac.dataNext, true);
  ac.write(0x3c);
  strictEqual(ac.dataNext, false);
  ac.write(0x02);
  ac.write(0x15);
  ac.write(0x01); // index again: the flip-flop is back at "index"
  strictEqual(ac.readData(), 0x3c);
  ac.write(0x02); // so this is data for register 1
  strictEqual(ac.readData(), 0x02);
  ac.write(0x02);
  strictEqual(ac.readData(), 0x15);
});

Deno.test("attribute: index register keeps the palette address source bit", () => {
  const ac = new AttributeController();
  ac.write(0x30); // index 0x10 with PAS
  strictEqual(ac.readIndex(), 0x30);
  strictEqual(ac.paletteAddressSource, true);
  ac.write(0x0c);
  strictEqual(ac.readData(), 0x0c);
  ac.write(0xff); // bits 6-7 are not part of the index register
  strictEqual(ac.readIndex(), 0x3f);
});

Deno.test("attribute: resetting the flip-flop makes the next write an index", () => {
  const ac = new AttributeController();
  ac.write(0x05); // index; next would be data
  ac.resetFlipFlop();
  ac.write(0x06); // index again
  ac.write(0x14);
  ac.write(0x05);
  strictEqual(ac.readData(), 0x00);
  ac.resetFlipFlop();
  ac.write(0x26);
  strictEqual(ac.readData(), 0x14);
});

Deno.test("attribute: register masks and mode control bits", () => {
  const ac = new AttributeController();
  ac.write(0x00);
  ac.write(0xff);
  strictEqual(ac.readData(), 0x3f);
  ac.write(ATTR_MODE_CONTROL);
  ac.write(0xff);
  strictEqual(ac.readData(), 0xef);
  strictEqual(ac.graphicsMode, true);
  strictEqual(ac.blinkEnabled, true);
  strictEqual(ac.eightBitColor, true);
  ac.write(ATTR_MODE_CONTROL);
  ac.write(0x0c); // mode 3
  strictEqual(ac.graphicsMode, false);
  strictEqual(ac.blinkEnabled, true);
  strictEqual(ac.eightBitColor, false);
  ac.write(0x15); // no register there
  ac.write(0x12);
  strictEqual(ac.readData(), 0xff);
});

Deno.test("attribute: snapshot -> restore keeps the flip-flop and index", () => {
  const a = new AttributeController();
  for (const v of [0x30, 0x0f, 0x31, 0x21, 0x12]) a.write(v); // index 0x12 written, data next
  const saved = a.snapshot();
  strictEqual(saved.dataNext, true);
  const b = new AttributeController();
  b.restore(structuredClone(saved));
  deepStrictEqual(b.snapshot(), saved);
  for (const ac of [a, b]) ac.write(0x3f);
  deepStrictEqual(b.snapshot(), a.snapshot());
  strictEqual(b.readData(), 0x3f); // colour plane enable (bits 0-5)
  throws(() => b.restore({ ...saved, index: 0x40 }), StateError);
  throws(() => b.restore({ ...saved, regs: new Uint8Array(21).fill(0xff) }), StateError);
});
