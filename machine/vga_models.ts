/**
 * The display adapters `--vga` chooses from, by QEMU's `-vga` names: what
 * each is, the SeaVGABIOS image that drives it and its video memory. The
 * board builds the chosen one from its entry in pc_devices.ts.
 *
 * @module
 */

import { ConfigError } from "./config_error.ts";
import { DEFAULT_VGA_BIOS, VIRTIO_VGA_BIOS } from "./firmware.ts";

/** The `--vga` models, QEMU's names. */
export const VGA_MODELS = ["std", "cirrus", "virtio", "none"] as const;

/** A `--vga` model. */
export type VgaModel = (typeof VGA_MODELS)[number];

/** The model when `--vga` is not given (QEMU's default on the pc machine). */
export const DEFAULT_VGA_MODEL: VgaModel = "std";

/** What each model is. */
export interface VgaModelInfo {
  /** One line for help and errors. */
  readonly description: string;
  /** SeaVGABIOS for it (Debian's seabios package), or null for no VGA BIOS at all. */
  readonly bios: string | null;
  /** Video memory when it is fixed (the Cirrus has 4 MiB); null when `--vga-memory` sets it. */
  readonly fixedMemory: number | null;
}

/** The models. */
export const VGA_MODEL_INFO: Readonly<Record<VgaModel, VgaModelInfo>> = {
  std: {
    description: "QEMU's standard VGA with Bochs VBE (1234:1111)",
    bios: DEFAULT_VGA_BIOS,
    fixedMemory: null,
  },
  cirrus: {
    description: "Cirrus Logic CL-GD5446 with BitBLT (1013:00b8), 4M",
    bios: "/usr/share/seabios/vgabios-cirrus.bin",
    fixedMemory: 4 * 1024 * 1024,
  },
  virtio: {
    description: "virtio-gpu with a VGA core (1af4:1050)",
    bios: VIRTIO_VGA_BIOS,
    fixedMemory: null,
  },
  none: {
    description: "no display adapter and no VGA BIOS: serial console only",
    bios: null,
    fixedMemory: null,
  },
};

/**
 * Checks a `--vga` value.
 * @throws {ConfigError} for an unknown model
 */
export function vgaModel(value: unknown): VgaModel {
  if (typeof value !== "string" || !(VGA_MODELS as readonly string[]).includes(value)) {
    throw new ConfigError("vga", `'${value}' is not a VGA model (${VGA_MODELS.join(", ")})`);
  }
  return value as VgaModel;
}
