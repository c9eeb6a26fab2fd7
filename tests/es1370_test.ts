/**
 * The ES1370 recorded to a WAV file, under vmrun and under QEMU with KVM
 * (`-audiodev wav -device ES1370,audiodev=`), on the es1370_play fixture:
 * DAC2 loops a buffer of unsigned 8-bit samples (a 441 Hz square wave) at
 * 22050 Hz for two RTC seconds. Both files must hold the same tone:
 * frequency and length within 2 %, the same amplitude.
 */

import { ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";
import { readWav, steadyRecording, toneFrequency, type WavData } from "./wav_read.ts";

const IMAGE = fixture("es1370_play");
const OUTPUT = "es1370 found\r\nes1370 done\r\n";
const TONE_HZ = 441;
const LIMIT_MS = 120_000;

function within(actual: number, expected: number, fraction: number, what: string): void {
  ok(
    Math.abs(actual - expected) <= expected * fraction,
    `${what}: ${actual.toFixed(4)} is not within ${fraction * 100} % of ${expected.toFixed(4)}`,
  );
}

/** The tone's level: the median magnitude (a few glitch samples do not move it). */
function level(w: WavData): number {
  const m = w.samples.map(Math.abs).sort((x, y) => x - y);
  return m[m.length >> 1];
}

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-es1370-" });
  try {
    return await run(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

kvmTest(
  "es1370: vmrun's WAV holds the tone QEMU's does (frequency, length, amplitude)",
  async () => {
    await withTempDir(async (dir) => {
      let serial = "";
      const machine = new Machine({
        memoryBytes: 128 << 20,
        cpus: 1,
        firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
        disks: [{ path: IMAGE, interface: "ide", media: "disk", readonly: true }],
        snapshot: true,
        bootMenu: false,
        startTimeMs: Date.now(),
        audio: { wavPath: `${dir}/vmrun.wav`, model: "es1370" },
      }, { serial: (b) => serial += new TextDecoder().decode(b) });
      const guard = setTimeout(() => machine.stop(), LIMIT_MS);
      const exit = await machine.exited;
      clearTimeout(guard);
      strictEqual(serial, OUTPUT);
      strictEqual(exit.code, 0x21);
      const mine = readWav(Deno.readFileSync(`${dir}/vmrun.wav`));

      const theirs = await steadyRecording(async () => {
        const q = new QemuProcess(IMAGE, {
          killAfterMs: LIMIT_MS,
          extraArgs: [
            "-audiodev",
            `wav,id=snd,path=${dir}/qemu.wav`,
            "-device",
            "ES1370,audiodev=snd",
          ],
        });
        const r = await q.finished();
        strictEqual(r.debugExit, 0x21, r.stderr);
        strictEqual(r.stdout, OUTPUT);
        return readWav(Deno.readFileSync(`${dir}/qemu.wav`));
      }, 2);

      const fm = toneFrequency(mine.samples, mine.rate);
      const fq = toneFrequency(theirs.samples, theirs.rate);
      console.log(
        `vmrun: ${mine.seconds.toFixed(4)} s at ${fm.toFixed(2)} Hz, level ${level(mine)}; ` +
          `QEMU: ${theirs.seconds.toFixed(4)} s at ${fq.toFixed(2)} Hz, level ${level(theirs)}`,
      );
      within(fm, TONE_HZ, 0.02, "vmrun's frequency");
      within(fm, fq, 0.02, "vmrun's frequency against QEMU's");
      // Two seconds of the guest's RTC.
      within(mine.seconds, 2, 0.05, "vmrun's length against the guest's two seconds");
      within(mine.seconds, theirs.seconds, 0.02, "vmrun's length against QEMU's");
      within(level(mine), level(theirs), 0.02, "vmrun's level against QEMU's");
    });
  },
);

kvmTest(
  "es1370: the CLI with QEMU's -audiodev wav and -device ES1370,audiodev= records it",
  async () => {
    await withTempDir(async (dir) => {
      const r = await runVmrun([
        "--headless",
        "--snapshot",
        "-audiodev",
        `wav,id=a,path=${dir}/cli.wav`,
        "-device",
        "ES1370,audiodev=a",
        IMAGE,
      ], { killAfterMs: LIMIT_MS });
      strictEqual(r.code, 0x21, r.stderr);
      strictEqual(r.stdout, OUTPUT);
      const w = readWav(Deno.readFileSync(`${dir}/cli.wav`));
      within(toneFrequency(w.samples, w.rate), TONE_HZ, 0.02, "CLI frequency");
      within(w.seconds, 2, 0.05, "CLI length");
    });
  },
);
