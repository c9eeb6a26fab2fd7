/**
 * The neutral error for a machine that cannot be built as asked. The CLI
 * shows it as one line naming its flag (status 2); the API throws it as
 * `VmOptionsError` naming the option.
 *
 * @module
 */

/** The options a {@link ConfigError} can name (keys of `MachineOptions`, and the run's). */
export type OptionName =
  | "memory"
  | "cpus"
  | "cpu"
  | "firmware"
  | "disk"
  | "vga"
  | "vgaMemory"
  | "snapshot"
  | "bootMenu"
  | "noReboot"
  | "startTime"
  | "timeout"
  | "control"
  | "initrd"
  | "append"
  | "nic"
  | "watchdog"
  | "watchdogAction"
  | "audio";

/** A machine option or input that cannot be used. */
export class ConfigError extends Error {
  /**
   * @param option the option at fault, or null when the problem is an input
   *   (an image, a file) whose own words say it
   * @param problem what is wrong; read after the option's name when there is one
   */
  constructor(readonly option: OptionName | null, readonly problem: string) {
    super(option === null ? problem : `${option} ${problem}`);
    this.name = "ConfigError";
  }
}
