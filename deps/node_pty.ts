/**
 * Pseudo-terminals for the end-to-end console tests, pinned (tests only).
 *
 * @module
 */

export { spawn } from "npm:@lydell/node-pty@1.1.0";
