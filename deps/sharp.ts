/**
 * sharp (libvips), for PNG encoding and image scaling, loaded on first use.
 *
 * Deno reads ahead every import it can see when a program starts, dynamic
 * ones included, and resolving an npm package costs start-up time and
 * resident memory. The specifier below is built at run time, so only runs
 * that write or scale images resolve sharp at all.
 *
 * @module
 */

/** sharp's default export: the image pipeline constructor. */
export type Sharp = typeof import("./sharp_npm.ts").default;

/** Imports sharp, the first time at some cost, afterwards from the module cache. */
export async function loadSharp(): Promise<Sharp> {
  const mod: typeof import("./sharp_npm.ts") = await import(
    new URL("./sharp_npm.ts", import.meta.url).href
  );
  return mod.default;
}
