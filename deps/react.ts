/**
 * React's types for the console's components, pinned. The JSX runtime comes
 * from the same version through deno.json's `jsxImportSource`
 * (deps/deps_test.ts keeps the two in step).
 *
 * @module
 */

// @ts-types="npm:@types/react@19.3.0"
export type { ReactElement, ReactNode } from "npm:react@19.3.1";
