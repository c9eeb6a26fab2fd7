/**
 * The sound choice of a machine (`--audio wav:<file>[,model=...]`, QEMU's
 * `-audio`): where what the guest plays is recorded, and which sound card
 * joins the PC speaker (always there, as on QEMU's PC).
 *
 * @module
 */

/** Sound cards, by QEMU's `model=` names. */
export const AUDIO_MODELS = ["sb16", "es1370"] as const;
/** A sound card model. */
export type AudioModel = typeof AUDIO_MODELS[number];

/** Sound recorded to a WAV file. */
export interface AudioConfig {
  /** The WAV file (created, or truncated, when the machine starts). */
  readonly wavPath: string;
  /** The sound card besides the PC speaker, or null for the speaker alone. */
  readonly model: AudioModel | null;
}
