/**
 * Errors that end vmrun with one line on stderr and a chosen exit status.
 *
 * @module
 */

/** Exit status for bad usage or bad input. */
export const EXIT_USAGE = 2;
/** Exit status for a VMM failure, a guest fault or KVM being unavailable. */
export const EXIT_FAILURE = 1;
/** Exit status when --timeout expires (as timeout(1)). */
export const EXIT_TIMEOUT = 124;

/** A problem with what the user asked for: printed as one line, exit status 2. */
export class UsageError extends Error {
  /** @param message the line to print, without the "vmrun: " prefix */
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = "UsageError";
  }
}
