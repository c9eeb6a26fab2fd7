/**
 * The PC speaker recorded to a WAV file, under vmrun and under QEMU with
 * KVM (`-audiodev wav -machine pcspk-audiodev=`), on the beep fixture: a
 * 440 Hz tone (PIT channel 2, mode 3) for two RTC seconds. Both files must
 * hold the same tone: frequency and length within 2 %.
 */

import { ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";
import { readWav, steadyRecording, toneFrequency, type WavData } from "./wav_read.ts";

const IMAGE = fixture("beep");
const OUTPUT = "beep 440 Hz\r\nbeep done\r\n";
const TONE_HZ = 1_193_182 / 2712;
const LIMIT_MS = 120_000;

function within(actual: number, expected: number, fraction: number, what: string): void {
  ok(
    Math.abs(actual - expected) <= expected * fraction,
    `${what}: ${actual.toFixed(3)} is not within ${fraction * 100} % of ${expected.toFixed(3)}`,
  );
}

function describe(w: WavData): string {
  return `${w.seconds.toFixed(3)} s at ${toneFrequency(w.samples, w.rate).toFixed(2)} Hz`;
}

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-speaker-" });
  try {
    return await run(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

async function vmrunWav(dir: string): Promise<WavData> {
  const wavPath = `${dir}/vmrun.wav`;
  let serial = "";
  const machine = new Machine({
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: IMAGE, interface: "ide", media: "disk", readonly: true }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.now(),
    audio: { wavPath },
  }, { serial: (b) => serial += new TextDecoder().decode(b) });
  const guard = setTimeout(() => machine.stop(), LIMIT_MS);
  const exit = await machine.exited;
  clearTimeout(guard);
  strictEqual(serial, OUTPUT);
  strictEqual(exit.reason, "debug-exit");
  strictEqual(exit.code, 0x21);
  return readWav(Deno.readFileSync(wavPath));
}

async function qemuWav(dir: string): Promise<WavData> {
  const wavPath = `${dir}/qemu.wav`;
  const q = new QemuProcess(IMAGE, {
    killAfterMs: LIMIT_MS,
    extraArgs: ["-audiodev", `wav,id=snd,path=${wavPath}`, "-machine", "pcspk-audiodev=snd"],
  });
  const r = await q.finished();
  strictEqual(r.debugExit, 0x21, r.stderr);
  strictEqual(r.stdout, OUTPUT);
  return readWav(Deno.readFileSync(wavPath));
}

kvmTest("pc speaker: vmrun's WAV holds the tone QEMU's does (frequency, length)", async () => {
  await withTempDir(async (dir) => {
    const mine = await vmrunWav(dir);
    const theirs = await steadyRecording(() => qemuWav(dir), 2);
    console.log(`vmrun: ${describe(mine)}; QEMU: ${describe(theirs)}`);
    strictEqual(mine.rate, 44100);
    const f = toneFrequency(mine.samples, mine.rate);
    within(f, TONE_HZ, 0.02, "vmrun's frequency");
    within(f, toneFrequency(theirs.samples, theirs.rate), 0.02, "vmrun's frequency against QEMU's");
    within(mine.seconds, 2, 0.05, "vmrun's length against the guest's two seconds");
    within(mine.seconds, theirs.seconds, 0.02, "vmrun's length against QEMU's");
  });
});

kvmTest(
  "pc speaker: the CLI's --audio wav: records it; an unwritable path is one line, status 2",
  async () => {
    await withTempDir(async (dir) => {
      const r = await runVmrun(
        ["--headless", "--snapshot", "--audio", `wav:${dir}/a.wav`, IMAGE],
        { killAfterMs: LIMIT_MS },
      );
      strictEqual(r.code, 0x21, r.stderr);
      const a = readWav(Deno.readFileSync(`${dir}/a.wav`));
      within(toneFrequency(a.samples, a.rate), TONE_HZ, 0.02, "CLI frequency");
      within(a.seconds, 2, 0.05, "CLI length");
      const bad = await runVmrun(["--audio", `wav:${dir}/none/x.wav`, IMAGE]);
      strictEqual(bad.code, 2);
      strictEqual(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    });
  },
);
