import { deepStrictEqual, strictEqual } from "node:assert";
import { SerialConsole } from "./serial_console.ts";
import { ATTR, DEFAULT_COLOR, lineText } from "./style.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function written(c: SerialConsole, s: string): Promise<void> {
  return new Promise((resolve) => c.write(enc(s), resolve));
}

Deno.test("guest ANSI sequences are rendered, not shown raw", async () => {
  const c = new SerialConsole(40, 5);
  await written(c, "plain \x1b[1;31mred\x1b[0m\r\n\x1b[44mblue bg\x1b[0m\r\nabc\x1b[2D\x1b[K");
  const lines = c.view();
  strictEqual(lines.length, 5);
  deepStrictEqual(lines.slice(0, 3).map(lineText), ["plain red", "blue bg", "a"]);
  const red = lines[0][1];
  deepStrictEqual([red.text, red.fg, red.attrs], ["red", 1, ATTR.BOLD]);
  deepStrictEqual([lines[1][0].bg, lines[1][0].fg], [4, DEFAULT_COLOR]);
  deepStrictEqual(c.cursor(), { row: 2, col: 1 });
  c.dispose();
});

Deno.test("scrollback: PgUp moves back, new output keeps a scrolled view still, end returns", async () => {
  const c = new SerialConsole(20, 3);
  for (let i = 0; i < 10; i++) await written(c, `line ${i}\r\n`);
  deepStrictEqual(c.view().map(lineText), ["line 8", "line 9", ""]);
  c.scroll(2);
  strictEqual(c.offset, 2);
  deepStrictEqual(c.view().map(lineText), ["line 6", "line 7", "line 8"]);
  strictEqual(c.cursor(), null);
  await written(c, "line 10\r\n");
  deepStrictEqual(c.view().map(lineText), ["line 6", "line 7", "line 8"]);
  c.scroll(1000);
  deepStrictEqual(c.view().map(lineText)[0], "line 0");
  c.scrollToEnd();
  deepStrictEqual(c.view().map(lineText), ["line 9", "line 10", ""]);
  c.dispose();
});

Deno.test("a resize reflows to the pane's new size", async () => {
  const c = new SerialConsole(10, 2);
  await written(c, "0123456789abcdef");
  deepStrictEqual(c.view().map(lineText), ["0123456789", "abcdef"]);
  c.resize(20, 2);
  strictEqual(c.dirty, true);
  deepStrictEqual(c.view().map(lineText)[0], "0123456789abcdef");
  c.dispose();
});
