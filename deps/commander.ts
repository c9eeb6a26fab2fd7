/**
 * Commander with typed options (the CLI's parser), pinned.
 *
 * @module
 */

export {
  Command,
  CommanderError,
  type CommandUnknownOpts,
  Help,
  Option,
} from "npm:@commander-js/extra-typings@15.1.0";
