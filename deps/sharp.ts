/**
 * sharp (libvips), for PNG encoding and image scaling, pinned. Import it
 * dynamically (`await import("../deps/sharp.ts")`) so only runs that write
 * or scale images load it.
 *
 * @module
 */

export { default } from "npm:sharp@0.35.5";
