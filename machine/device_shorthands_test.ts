import { deepStrictEqual, match, strictEqual, throws } from "node:assert";
import { UsageError } from "../cli/errors.ts";
import { buildProgram, parseCommandLine } from "../cli/program.ts";
import { translateQemuArgs } from "../cli/qemu_args.ts";
import { fixture } from "../fixtures/build.ts";
import { ConfigError } from "./config_error.ts";
import { type DeviceShorthands, resolveDevices } from "./device_shorthands.ts";
import { parseDeviceSpec } from "./optional_devices.ts";
import { EXIT_WATCHDOG } from "./watchdog.ts";

const noop = () => {};
const OPTIONS = buildProgram(noop, noop).options;
const t = (...argv: string[]) => translateQemuArgs(argv, OPTIONS).argv;
const IMAGE = fixture("hello");
const cli = (...argv: string[]) =>
  parseCommandLine([...argv, IMAGE], { out: noop, err: noop, hostMemory: 2 ** 34 }).config;
const resolve = (devices: string[], o: DeviceShorthands = {}) =>
  resolveDevices(devices.map(parseDeviceSpec), o);
const dev = (name: string) => ({ name, options: {} });

function refused(
  run: () => unknown,
  pattern: RegExp,
  type: abstract new (...a: never[]) => Error = UsageError,
): void {
  throws(run, (e: unknown) => {
    if (!(e instanceof type)) return false;
    match(e.message, pattern);
    if (e instanceof UsageError) strictEqual(e.exitCode, 2);
    strictEqual(e.message.includes("\n"), false, "one line");
    return true;
  });
}

function withDir(run: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync();
  try {
    run(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("--watchdog model[,action=] is --device model with --watchdog-action", () => {
  deepStrictEqual(resolve([]), { devices: [] });
  deepStrictEqual(resolve([], { watchdog: "ib700" }), { devices: [dev("ib700")] });
  deepStrictEqual(resolve([], { watchdog: "i6300esb,action=exit" }), {
    devices: [dev("i6300esb")],
    watchdogAction: "exit",
  });
  deepStrictEqual(resolve(["ib700"], { watchdogAction: "poweroff" }), {
    devices: [dev("ib700")],
    watchdogAction: "poweroff",
  });
  deepStrictEqual(resolve([], { watchdog: "ib700,action=pause", watchdogAction: "pause" }), {
    devices: [dev("ib700")],
    watchdogAction: "pause",
  });
  // --watchdog goes after the --devices (QEMU's old -watchdog was a -device).
  deepStrictEqual(resolve(["virtio-rng-pci"], { watchdog: "i6300esb" }).devices, [
    dev("virtio-rng-pci"),
    dev("i6300esb"),
  ]);
  const bad = (devices: string[], o: DeviceShorthands, pattern: RegExp) =>
    refused(() => resolve(devices, o), pattern, ConfigError);
  bad([], { watchdog: "wdt" }, /^watchdog 'wdt': unknown watchdog \(ib700, i6300esb\)$/);
  bad([], { watchdog: "ib700,action=reboot" }, /'reboot': unknown watchdog action/);
  bad([], { watchdog: "ib700,timeout=3" }, /'timeout=3': unknown option/);
  bad(["ib700", "i6300esb"], {}, /one watchdog at most \(got ib700 and i6300esb\)/);
  bad(["ib700"], { watchdog: "ib700" }, /one watchdog at most/);
  bad([], { watchdogAction: "reset" }, /^watchdogAction needs a watchdog/);
  bad([], { watchdog: "ib700,action=exit", watchdogAction: "none" }, /disagree/);
  bad(["ib700"], { watchdogAction: "nmi" }, /unknown watchdog action/);
  bad(["ib700"], { watchdogAction: "shutdown" }, /QEMU's shutdown presses the power button/);
});

Deno.test("--audio wav:<file>[,model=] is the card as a --device, recording to the file", () => {
  withDir((dir) => {
    const wav = `${dir}/a,b.wav`;
    deepStrictEqual(resolve([], { audio: "none" }), { devices: [] });
    deepStrictEqual(resolve([], { audio: `wav:${wav}` }), {
      devices: [],
      audio: { wavPath: wav },
    });
    strictEqual(Deno.statSync(wav).isFile, true, "the file is created up front");
    // model= comes first, as QEMU's -audio model= creates its card before any -device.
    deepStrictEqual(resolve(["virtio-rng-pci"], { audio: `wav:${wav},model=es1370` }), {
      devices: [dev("ES1370"), dev("virtio-rng-pci")],
      audio: { wavPath: wav },
    });
    // The same card both ways is one card.
    deepStrictEqual(resolve(["sb16"], { audio: `wav:${wav},model=sb16` }).devices, [dev("sb16")]);
    deepStrictEqual(resolve(["es1370"], { audio: `wav:${wav}` }).devices, [dev("ES1370")]);
    const bad = (devices: string[], o: DeviceShorthands, pattern: RegExp) =>
      refused(() => resolve(devices, o), pattern, ConfigError);
    bad([], { audio: "pa" }, /^audio 'pa': vmrun records sound to a file/);
    bad([], { audio: "wav,path=x.wav" }, /QEMU's -audio wav,path=F,model=M is wav:F,model=M here/);
    bad([], { audio: `wav:${dir}/x.wav,model=gus` }, /unknown sound card 'gus' \(sb16, es1370\)/);
    bad([], { audio: `wav:${dir}/x.wav,model=ib700` }, /unknown sound card 'ib700'/);
    bad([], { audio: `wav:${dir}/no/such/x.wav` }, /^cannot write --audio file '.*no\/such/);
    bad(["sb16"], {}, /--device sb16 plays into a file: add --audio wav:<file>/);
    bad(["sb16"], { audio: "none" }, /add --audio wav:<file>/);
    bad(["sb16"], { audio: `wav:${wav},model=es1370` }, /model=es1370 and --device sb16 disagree/);
    bad(["sb16", "ES1370"], { audio: `wav:${wav}` }, /one sound card at most/);
  });
});

Deno.test("the command line: --device takes the watchdogs and cards; the shorthands map onto them", () => {
  withDir((dir) => {
    const wav = `${dir}/s.wav`;
    const c = cli("--device", "ib700", "--watchdog-action", "pause");
    deepStrictEqual([c.devices, c.watchdogAction], [[dev("ib700")], "pause"]);
    const e = cli("--device", "ES1370", "--device", "i6300esb", "--audio", `wav:${wav}`);
    deepStrictEqual([e.devices, e.audio, e.watchdogAction], [
      [dev("ES1370"), dev("i6300esb")],
      { wavPath: wav },
      undefined,
    ]);
    const s = cli("--watchdog", "i6300esb,action=exit", "--audio", `wav:${wav},model=sb16`);
    deepStrictEqual([s.devices, s.watchdogAction], [[dev("sb16"), dev("i6300esb")], "exit"]);
    // QEMU's spellings land on the same entries.
    const q = cli("-device", "ib700", "-action", "watchdog=poweroff");
    deepStrictEqual([q.devices, q.watchdogAction], [[dev("ib700")], "poweroff"]);
    const a = cli("-audiodev", `wav,id=snd,path=${wav}`, "-device", "ES1370,audiodev=snd");
    deepStrictEqual([a.devices, a.audio], [[dev("ES1370")], { wavPath: wav }]);
    const bad = (pattern: RegExp, ...argv: string[]) => refused(() => cli(...argv), pattern);
    bad(/^--watchdog 'wdt': unknown watchdog \(ib700, i6300esb\)$/, "--watchdog", "wdt");
    bad(
      /^--watchdog-action 'nmi': unknown watchdog action/,
      "--device",
      "ib700",
      "--watchdog-action",
      "nmi",
    );
    bad(/^--watchdog-action needs a watchdog/, "--watchdog-action", "reset");
    bad(
      /^--audio 'wav:x.wav,model=gus': unknown sound card 'gus'/,
      "--audio",
      "wav:x.wav,model=gus",
    );
    bad(/^cannot write --audio file/, "--audio", `wav:${dir}/no/such.wav`);
    bad(/^--device sb16 plays into a file/, "--device", "sb16");
    bad(
      /unknown device 'gus' \(known: virtio-rng-pci, .*\bib700, i6300esb, sb16, ES1370[;)]/,
      "--device",
      "gus",
    );
    bad(/one watchdog at most/, "--device", "ib700", "--watchdog", "i6300esb");
  });
});

Deno.test("ISA devices take no PCI slot: 29 PCI devices fit beside an ib700 and an sb16", () => {
  withDir((dir) => {
    const many = Array.from({ length: 29 }, () => ["--device", "virtio-rng-pci"]).flat();
    const c = cli(...many, "--device", "ib700", "--device", "sb16", "--audio", `wav:${dir}/x.wav`);
    strictEqual(c.devices?.length, 31);
    refused(
      () => cli(...many, "--device", "i6300esb"),
      /0 virtio disks and 30 PCI --devices need more than the 29 free PCI slots/,
    );
  });
});

Deno.test("the exit status of the exit action is 3 and documented in --help", () => {
  strictEqual(EXIT_WATCHDOG, 3);
  const help = OPTIONS.find((o) => o.long === "--watchdog")?.description ?? "";
  match(help, /exit \(status 3\)/);
  match(
    OPTIONS.find((o) => o.long === "--watchdog-action")?.description ?? "",
    /-action watchdog=/,
  );
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

Deno.test("QEMU's -audio, -audiodev wav and -device sb16|ES1370 become --audio and --device", () => {
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
  deepStrictEqual(t("-audiodev", "wav,id=a,path=s.wav", "-device", "sb16,audiodev=a"), [
    "--device",
    "sb16",
    "--audio",
    "wav:s.wav",
  ]);
  // vmrun's --device takes QEMU's audiodev= too.
  deepStrictEqual(t("-audiodev", "wav,id=a,path=s.wav", "--device", "ES1370,audiodev=a"), [
    "--device",
    "ES1370",
    "--audio",
    "wav:s.wav",
  ]);
  deepStrictEqual(t("--device", "es1370"), ["--device", "ES1370"]);
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
  refused(() => t("-audio", "pa"), /WAV file only/);
  refused(() => t("-audiodev", "alsa,id=a"), /WAV file only/);
  refused(() => t("-machine", "pcspk-audiodev=zz"), /no -audiodev with id=zz/);
  refused(() => t("-device", "sb16,audiodev=zz"), /no -audiodev with id=zz/);
});
