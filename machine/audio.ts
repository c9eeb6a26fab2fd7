/**
 * The sound choice of a machine (`--audio wav:<file>[,model=...]`, QEMU's
 * `-audio`): where what the guest plays is recorded. The PC speaker is
 * always there, as on QEMU's PC; a sound card is an optional device
 * (`--device sb16|ES1370`), which `model=` adds as a shorthand.
 *
 * @module
 */

/** Sound cards, by QEMU's `-audio model=` names (their `-device` names are sb16 and ES1370). */
export const AUDIO_MODELS = ["sb16", "es1370"] as const;
/** A sound card model. */
export type AudioModel = typeof AUDIO_MODELS[number];

/** Sound recorded to a WAV file. */
export interface AudioConfig {
  /** The WAV file (created, or truncated, when the machine starts). */
  readonly wavPath: string;
}
