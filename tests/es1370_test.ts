/**
 * The ES1370 recorded to a WAV file, under vmrun and under QEMU with KVM
 * (`-audiodev wav -device ES1370,audiodev=`), on the es1370_play fixture:
 * DAC2 loops a buffer of unsigned 8-bit samples (a 441 Hz square wave) at
 * 22050 Hz for two RTC seconds. Both files must hold the same tone:
 * frequency and length within 2 %, the same amplitude.
 */

import { fixture } from "../fixtures/build.ts";
import { audioCompareTests } from "./audio_compare.ts";

audioCompareTests({
  image: fixture("es1370_play"),
  output: "es1370 found\r\nes1370 done\r\n",
  model: "es1370",
  qemuDevice: "ES1370",
  // Two seconds of the guest's RTC.
  lengthTolerance: 0.05,
  // A loaded host once ran it 11 % long.
  cliLengthTolerance: 0.25,
  lengthWhat: "vmrun's length against the guest's two seconds",
  compareName: "es1370: vmrun's WAV holds the tone QEMU's does (frequency, length, amplitude)",
  cliName: "es1370: the CLI with --device ES1370 and --audio wav: records it; --report names it",
  cliSpelling: "vmrun",
});
