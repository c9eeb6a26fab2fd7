/**
 * xterm.js without a DOM: the serial console's terminal emulator (and the
 * tests' model of a real terminal), pinned.
 *
 * @module
 */

export { default } from "npm:@xterm/headless@6.0.0";
