import { deepStrictEqual, match, strictEqual, throws } from "node:assert";
import { EXIT_WATCHDOG } from "../machine/watchdog.ts";
import { parseAudioOption, parseWatchdogOptions } from "./device_options.ts";
import { UsageError } from "./errors.ts";
import { buildProgram } from "./program.ts";
import { translateQemuArgs } from "./qemu_args.ts";

const noop = () => {};
const OPTIONS = buildProgram(noop, noop).options;
const t = (...argv: string[]) => translateQemuArgs(argv, OPTIONS).argv;

function refused(run: () => unknown, pattern: RegExp): void {
  throws(run, (e: unknown) => {
    if (!(e instanceof UsageError)) return false;
    match(e.message, pattern);
    strictEqual(e.exitCode, 2);
    strictEqual(e.message.includes("\n"), false, "one line");
    return true;
  });
}

Deno.test("--watchdog model[,action=] and --device with --watchdog-action", () => {
  const p = (o: { watchdog?: string; watchdogAction?: string; device?: string[] }) =>
    parseWatchdogOptions({ device: [], ...o });
  strictEqual(p({}), undefined);
  deepStrictEqual(p({ watchdog: "ib700" }), { model: "ib700", action: "reset" });
  deepStrictEqual(p({ watchdog: "i6300esb,action=exit" }), { model: "i6300esb", action: "exit" });
  deepStrictEqual(p({ device: ["ib700"], watchdogAction: "poweroff" }), {
    model: "ib700",
    action: "poweroff",
  });
  deepStrictEqual(p({ watchdog: "ib700,action=pause", watchdogAction: "pause" }), {
    model: "ib700",
    action: "pause",
  });
  refused(() => p({ watchdog: "wdt" }), /unknown watchdog 'wdt' \(ib700, i6300esb\)/);
  refused(() => p({ watchdog: "ib700,action=reboot" }), /unknown watchdog action 'reboot'/);
  refused(() => p({ watchdog: "ib700,timeout=3" }), /unknown option 'timeout=3'/);
  refused(() => p({ device: ["ib700", "i6300esb"] }), /one watchdog at most/);
  refused(() => p({ device: ["e1000"] }), /--device e1000: unknown device/);
  refused(() => p({ watchdogAction: "reset" }), /needs a watchdog/);
  refused(() => p({ watchdog: "ib700,action=exit", watchdogAction: "none" }), /disagree/);
  refused(() => p({ device: ["ib700"], watchdogAction: "nmi" }), /unknown watchdog action/);
});

Deno.test("the exit status of the exit action is 3 and documented in --help", () => {
  strictEqual(EXIT_WATCHDOG, 3);
  const help = OPTIONS.find((o) => o.long === "--watchdog")?.description ?? "";
  match(help, /exit \(status 3\)/);
});

Deno.test("QEMU's watchdog words become vmrun's", () => {
  deepStrictEqual(t("-device", "ib700", "a.img"), ["--device", "ib700", "a.img"]);
  deepStrictEqual(t("--device", "i6300esb,id=w", "a.img"), ["--device", "i6300esb", "a.img"]);
  deepStrictEqual(t("--device=ib700", "a.img"), ["--device", "ib700", "a.img"]);
  deepStrictEqual(t("-watchdog", "i6300esb", "a.img"), ["--device", "i6300esb", "a.img"]);
  deepStrictEqual(t("-watchdog-action", "poweroff"), ["--watchdog-action", "poweroff"]);
  deepStrictEqual(t("-action", "watchdog=pause"), ["--watchdog-action", "pause"]);
  deepStrictEqual(t("-action", "watchdog=debug"), ["--watchdog-action", "none"]);
  deepStrictEqual(t("-action", "reboot=shutdown,watchdog=reset"), [
    "--no-reboot",
    "--watchdog-action",
    "reset",
  ]);
  // vmrun's own spellings pass as they are.
  deepStrictEqual(t("--watchdog", "ib700,action=exit", "--watchdog-action", "exit"), [
    "--watchdog",
    "ib700,action=exit",
    "--watchdog-action",
    "exit",
  ]);
  refused(() => t("-watchdog", "diag288"), /watchdogs are ib700 and i6300esb/);
  refused(() => t("-action", "watchdog=inject-nmi"), /actions are reset, poweroff/);
  refused(() => t("-action", "watchdog=shutdown"), /actions are reset, poweroff/);
  refused(() => t("-action", "panic=pause"), /does not support panic=pause/);
  refused(() => t("-device", "ib700,iobase=0x443"), /does not support 'iobase'/);
});

Deno.test("--audio none|wav:<file>[,model=]; an unwritable file is one line", () => {
  const dir = Deno.makeTempDirSync();
  try {
    strictEqual(parseAudioOption(undefined), undefined);
    strictEqual(parseAudioOption("none"), undefined);
    deepStrictEqual(parseAudioOption(`wav:${dir}/a,b.wav`), {
      wavPath: `${dir}/a,b.wav`,
      model: null,
    });
    refused(() => parseAudioOption("pa"), /records sound to a file/);
    refused(() => parseAudioOption(`wav:${dir}/x.wav,model=gus`), /unknown sound card 'gus'/);
    refused(() => parseAudioOption(`wav:${dir}/no/such/x.wav`), /cannot write --audio file/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("QEMU's -audio and -audiodev wav with pcspk-audiodev become --audio", () => {
  deepStrictEqual(t("-audio", "wav,path=a.wav"), ["--audio", "wav:a.wav"]);
  deepStrictEqual(t("-audio", "driver=wav,model=sb16,path=a.wav"), [
    "--audio",
    "wav:a.wav,model=sb16",
  ]);
  deepStrictEqual(t("-audio", "wav"), ["--audio", "wav:qemu.wav"]);
  deepStrictEqual(t("-audio", "none"), []);
  deepStrictEqual(t("-audiodev", "wav,id=a,path=s.wav", "-machine", "pc,pcspk-audiodev=a"), [
    "--audio",
    "wav:s.wav",
  ]);
  refused(() => t("-audio", "pa"), /WAV file only/);
  refused(() => t("-audiodev", "alsa,id=a"), /WAV file only/);
  refused(() => t("-machine", "pcspk-audiodev=zz"), /no -audiodev with id=zz/);
});

Deno.test("the sound card: --audio wav:<file>,model=sb16 or --device sb16; QEMU's -device sb16", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const wav = `${dir}/s.wav`;
    deepStrictEqual(parseAudioOption(`wav:${wav},model=sb16`), { wavPath: wav, model: "sb16" });
    deepStrictEqual(parseAudioOption(`wav:${wav}`, ["sb16", "ib700"]), {
      wavPath: wav,
      model: "sb16",
    });
    strictEqual(parseWatchdogOptions({ device: ["sb16", "ib700"] })?.model, "ib700");
    refused(() => parseAudioOption(undefined, ["sb16"]), /add --audio wav:<file>/);
    refused(() => parseAudioOption(`wav:${wav},model=es1370`, ["sb16"]), /disagree/);
    refused(() => parseAudioOption(`wav:${wav}`, ["sb16", "es1370"]), /one sound card at most/);
    deepStrictEqual(parseAudioOption(`wav:${wav}`, ["ES1370"]), { wavPath: wav, model: "es1370" });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  deepStrictEqual(t("-audiodev", "wav,id=a,path=s.wav", "-device", "sb16,audiodev=a"), [
    "--device",
    "sb16",
    "--audio",
    "wav:s.wav",
  ]);
  deepStrictEqual(
    t(
      "-audiodev",
      "wav,id=a,path=s.wav",
      "-machine",
      "pcspk-audiodev=a",
      "-device",
      "sb16,audiodev=a",
    ),
    ["--audio", "wav:s.wav", "--device", "sb16"],
  );
  refused(() => t("-device", "sb16,audiodev=zz"), /no -audiodev with id=zz/);
});
