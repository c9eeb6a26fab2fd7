/**
 * The QEMU-vs-vmrun WAV comparison shared by the sound card tests
 * (es1370_test.ts, sb16_test.ts): a fixture plays a 441 Hz square wave for
 * two seconds; vmrun records it through the Machine API and QEMU with KVM
 * through `-audiodev wav -device <card>,audiodev=`, and both files must hold
 * the same tone (frequency and length within 2 %, the same amplitude). The
 * CLI spelling of the same options must record it too.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import type { AudioModel } from "../machine/audio.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";
import { readWav, steadyRecording, toneFrequency, type WavData } from "./wav_read.ts";

const TONE_HZ = 441;
const LIMIT_MS = 120_000;

/** One sound card's recording test: what it boots, what it expects. */
export interface AudioCase {
  /** The fixture image that plays the tone. */
  readonly image: string;
  /** Its whole serial output. */
  readonly output: string;
  /** vmrun's `model=` name for the card. */
  readonly model: AudioModel;
  /** QEMU's `-device` name for the card. */
  readonly qemuDevice: string;
  /** How far the recording's length may stray from two seconds, as a fraction. */
  readonly lengthTolerance: number;
  /**
   * The same without QEMU beside it, when it differs: where the guest's RTC decides when the card
   * stops, a loaded host that runs the guest late lets it play on (the comparison test holds the
   * length to QEMU's, which runs as late).
   */
  readonly cliLengthTolerance?: number;
  /** The name of the test comparing vmrun's WAV with QEMU's. */
  readonly compareName: string;
  /** The name of the test recording through the CLI. */
  readonly cliName: string;
  /**
   * How the CLI test asks for the card: QEMU's `-audiodev wav -device
   * <card>,audiodev=`, or vmrun's `--device <card> --audio wav:<file>`.
   */
  readonly cliSpelling: "qemu" | "vmrun";
  /** What the length assertion against two seconds is called. */
  readonly lengthWhat: string;
}

/** Asserts `actual` is within `fraction` of `expected`, naming `what` when not. */
export function within(actual: number, expected: number, fraction: number, what: string): void {
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

async function withTempDir<T>(prefix: string, run: (dir: string) => Promise<T>): Promise<T> {
  const dir = Deno.makeTempDirSync({ prefix });
  try {
    return await run(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Registers the two recording tests (vmrun against QEMU, and the CLI) for one card. */
export function audioCompareTests(c: AudioCase): void {
  const prefix = `vmrun-${c.model}-`;
  kvmTest(c.compareName, async () => {
    await withTempDir(prefix, async (dir) => {
      let serial = "";
      const machine = new Machine({
        memoryBytes: 128 << 20,
        cpus: 1,
        firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
        disks: [{ path: c.image, interface: "ide", media: "disk", readonly: true }],
        snapshot: true,
        bootMenu: false,
        startTimeMs: Date.now(),
        devices: [{ name: c.qemuDevice, options: {} }],
        audio: { wavPath: `${dir}/vmrun.wav` },
      }, { serial: (b) => serial += new TextDecoder().decode(b) });
      const guard = setTimeout(() => machine.stop(), LIMIT_MS);
      const exit = await machine.exited;
      clearTimeout(guard);
      strictEqual(serial, c.output);
      strictEqual(exit.code, 0x21);
      const mine = readWav(Deno.readFileSync(`${dir}/vmrun.wav`));

      const theirs = await steadyRecording(async () => {
        const q = new QemuProcess(c.image, {
          killAfterMs: LIMIT_MS,
          extraArgs: [
            "-audiodev",
            `wav,id=snd,path=${dir}/qemu.wav`,
            "-device",
            `${c.qemuDevice},audiodev=snd`,
          ],
        });
        const r = await q.finished();
        strictEqual(r.debugExit, 0x21, r.stderr);
        strictEqual(r.stdout, c.output);
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
      within(mine.seconds, 2, c.lengthTolerance, c.lengthWhat);
      within(mine.seconds, theirs.seconds, 0.02, "vmrun's length against QEMU's");
      within(level(mine), level(theirs), 0.02, "vmrun's level against QEMU's");
    });
  });

  kvmTest(c.cliName, async () => {
    await withTempDir(prefix, async (dir) => {
      const wav = `${dir}/cli.wav`;
      const card = c.cliSpelling === "qemu"
        ? ["-audiodev", `wav,id=a,path=${wav}`, "-device", `${c.qemuDevice},audiodev=a`]
        : ["--device", c.qemuDevice, "--audio", `wav:${wav}`];
      const r = await runVmrun([
        "--headless",
        "--snapshot",
        ...card,
        "--report",
        `${dir}/report.json`,
        c.image,
      ], { killAfterMs: LIMIT_MS });
      strictEqual(r.code, 0x21, r.stderr);
      strictEqual(r.stdout, c.output);
      const w = readWav(Deno.readFileSync(wav));
      within(toneFrequency(w.samples, w.rate), TONE_HZ, 0.02, "CLI frequency");
      within(w.seconds, 2, c.cliLengthTolerance ?? c.lengthTolerance, "CLI length");
      // The report names the file written, its size and how long it plays.
      const report = JSON.parse(Deno.readTextFileSync(`${dir}/report.json`));
      deepStrictEqual(report.audio, {
        file: wav,
        bytes: Deno.statSync(wav).size,
        seconds: w.seconds,
      });
      deepStrictEqual(report.watchdog, []);
    });
  });
}
