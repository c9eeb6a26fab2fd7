import { strictEqual } from "node:assert";
import { HELP_TEXT } from "./help_text.ts";
import { generatedHelp } from "./help_text_gen.ts";

Deno.test("the stored --help text is what the option parser prints (else: deno run -A cli/help_text_gen.ts)", () => {
  strictEqual(HELP_TEXT, generatedHelp());
});
