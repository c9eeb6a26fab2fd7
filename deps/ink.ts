/**
 * Ink, the console's React renderer for terminals, pinned. Only the console
 * imports it, so a headless run never loads it.
 *
 * @module
 */

export { Box, renderToString, Text } from "npm:ink@8.0.0";
