/**
 * sharp's npm package, pinned. Only {@link loadSharp} in sharp.ts imports
 * this module.
 *
 * @module
 */

export { default } from "npm:sharp@0.35.5";
