import { deepStrictEqual, ok } from "node:assert";
import { fileURLToPath } from "node:url";
import { commandKeyRows } from "./commands.ts";

Deno.test("README lists the console's keys exactly as tui/commands.ts has them", () => {
  const readme = Deno.readTextFileSync(fileURLToPath(new URL("../README.md", import.meta.url)));
  const start = readme.indexOf("<!-- console keys:");
  ok(start >= 0, "the console keys table");
  const table = readme.slice(start).split("\n").slice(2);
  const rows = table.slice(2, table.indexOf("")).map((line) =>
    line.split("|").slice(1, -1).map((cell) => cell.trim())
  );
  const want = commandKeyRows().map((r) => [r.keys.map((k) => `\`${k}\``).join(", "), r.does]);
  want.push(["`PgUp`, `PgDn`", "scroll the serial pane back and forth"]);
  deepStrictEqual(rows, want);
});
