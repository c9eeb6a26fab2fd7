/**
 * Ink's test renderer, pinned (tests only).
 *
 * @module
 */

export { render } from "npm:ink-testing-library@4.0.0";
