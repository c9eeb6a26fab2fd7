/**
 * The Sound Blaster 16 recorded to a WAV file, under vmrun and under QEMU
 * with KVM (`-audiodev wav -device sb16,audiodev=`), on the sb16_play
 * fixture: 44100 unsigned 8-bit samples at 22050 Hz through single-cycle
 * DMA, a 441 Hz square wave for two seconds. Both files must hold the same
 * tone: frequency and length within 2 %, the same amplitude.
 */

import { fixture } from "../fixtures/build.ts";
import { audioCompareTests } from "./audio_compare.ts";

audioCompareTests({
  image: fixture("sb16_play"),
  output: "sb16 dsp 0405\r\nsb16 done\r\n",
  model: "sb16",
  qemuDevice: "sb16",
  // The whole buffer: 44100 samples at 22050 Hz, resampled to 44100 Hz.
  lengthTolerance: 0.001,
  lengthWhat: "vmrun's length against the buffer's",
  compareName: "sb16: vmrun's WAV holds the buffer QEMU's does (frequency, length, amplitude)",
  cliName: "sb16: the CLI with QEMU's -audiodev wav and -device sb16,audiodev= records it",
  cliSpelling: "qemu",
});
