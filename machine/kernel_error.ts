/**
 * The error a kernel, initrd or command line vmrun cannot boot raises: one
 * line that says what is wrong, which the CLI prints with status 2.
 *
 * @module
 */

/** A kernel, initrd or command line that cannot be booted. */
export class KernelError extends Error {
  /** @param message one line naming the file and the problem */
  constructor(message: string) {
    super(message);
    this.name = "KernelError";
  }
}
