/**
 * Code page 437, the character set of the VGA's ROM fonts, mapped to Unicode
 * the way terminals show it: the control range as the PC's graphical glyphs
 * (☺☻♥…), except 0x00, which the text screen shows as a blank.
 *
 * @module
 */

const LOW = " ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼";
const HIGH = "ÇüéâäàåçêëèïîìÄÅ" +
  "ÉæÆôöòûùÿÖÜ¢£¥₧ƒ" +
  "áíóúñÑªº¿⌐¬½¼¡«»" +
  "░▒▓│┤╡╢╖╕╣║╗╝╜╛┐" +
  "└┴┬├─┼╞╟╚╔╩╦╠═╬╧" +
  "╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀" +
  "αßΓπΣσµτΦΘΩδ∞φε∩" +
  "≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

function buildTable(): readonly string[] {
  const table: string[] = [...LOW];
  for (let c = 0x20; c < 0x7f; c++) table.push(String.fromCharCode(c));
  table.push("⌂");
  table.push(...HIGH);
  return Object.freeze(table);
}

/** The 256 CP437 code points as one-character Unicode strings, indexed by byte. */
export const CP437: readonly string[] = buildTable();

/** The Unicode character for CP437 byte `code` (only the low 8 bits count). */
export function cp437ToUnicode(code: number): string {
  return CP437[code & 0xff];
}
