/**
 * vmrun's version, in a module of its own so `vmrun --version` answers
 * without loading the option parser.
 *
 * @module
 */

/** vmrun's version, from package.json. */
export const VERSION = "0.1.0";
