/**
 * Errors that end vmrun with one line on stderr and a chosen exit status.
 * The statuses themselves are defined once, in machine/exit.ts.
 *
 * @module
 */

import { EXIT_USAGE } from "../machine/exit.ts";

export { EXIT_FAILURE, EXIT_TIMEOUT, EXIT_USAGE } from "../machine/exit.ts";

/** A problem with what the user asked for: printed as one line, exit status 2. */
export class UsageError extends Error {
  /** @param message the line to print, without the "vmrun: " prefix */
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = "UsageError";
  }
}
