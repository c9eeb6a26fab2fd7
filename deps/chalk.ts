/**
 * Chalk, for the Ink layer's colour depth, pinned.
 *
 * @module
 */

export { default } from "npm:chalk@6.0.1";
