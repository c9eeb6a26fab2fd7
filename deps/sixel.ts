/**
 * The sixel encoder and decoder, pinned.
 *
 * @module
 */

export { decode, FINALIZER, introducer } from "npm:sixel@0.16.0";
export { sixelEncodeIndexed } from "npm:sixel@0.16.0/lib/SixelEncoder.js";
