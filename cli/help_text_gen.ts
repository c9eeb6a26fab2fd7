/**
 * Writes cli/help_text.ts: `vmrun --help` at 80 columns, as the option
 * parser formats it, so that `vmrun --help` can answer without loading the
 * parser (commander brings Node's compatibility layer, most of vmrun's
 * start-up). cli/help_text_test.ts fails when the two drift apart.
 *
 *   deno run -A cli/help_text_gen.ts
 *
 * @module
 */

import { buildProgram } from "./program.ts";

/** The help text at 80 columns, without colour. */
export function generatedHelp(): string {
  return buildProgram(() => {}, () => {})
    .configureOutput({ getOutHelpWidth: () => 80, getOutHasColors: () => false })
    .helpInformation();
}

if (import.meta.main) {
  const file = new URL("./help_text.ts", import.meta.url);
  Deno.writeTextFileSync(
    file,
    `/**
 * \`vmrun --help\` at 80 columns, written by cli/help_text_gen.ts (run it after
 * changing an option; cli/help_text_test.ts checks the two agree).
 *
 * @module
 */

/** The help text, as the option parser formats it at 80 columns. */
export const HELP_TEXT =
  ${JSON.stringify(generatedHelp())};
`,
  );
}
