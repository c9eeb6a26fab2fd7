/**
 * Bad input: each case ends with one line on stderr that names the problem,
 * the documented exit status, and no stack trace.
 */

import { match, ok, rejects, strictEqual } from "node:assert";
import { Vm, VmOptionsError } from "../mod.ts";
import { fixture } from "../fixtures/build.ts";
import { runVmrun } from "./vmrun_process.ts";

const NONE = ["--firmware", "none", "--headless"];

async function expectOneLine(args: string[], status: number, pattern: RegExp, opts = {}) {
  const r = await runVmrun(args, { killAfterMs: 15_000, ...opts });
  strictEqual(r.code, status, `exit status for ${args.join(" ")}: ${r.stderr}`);
  strictEqual(r.stdout, "");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  strictEqual(lines.length, 1, `one line expected, got: ${r.stderr}`);
  match(lines[0], /^vmrun: /);
  match(lines[0], pattern);
  ok(!/\bat .*\.ts:\d+/.test(r.stderr), "no stack trace");
}

function tempFile(bytes: Uint8Array, mode = 0o644): string {
  const path = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.writeFileSync(path, bytes);
  Deno.chmodSync(path, mode);
  return path;
}

/** A directory and its files that an unprivileged user can reach. */
function worldReadableTemp(): string {
  const dir = Deno.makeTempDirSync();
  Deno.chmodSync(dir, 0o755);
  return dir;
}

Deno.test("a missing image", async () => {
  await expectOneLine(
    [...NONE, "/nonexistent/disk.img"],
    2,
    /'\/nonexistent\/disk.img': no such file/,
  );
});

Deno.test("a directory instead of an image", async () => {
  const dir = Deno.makeTempDirSync();
  await expectOneLine([...NONE, dir], 2, /is a directory/);
});

Deno.test("an empty image", async () => {
  await expectOneLine([...NONE, tempFile(new Uint8Array())], 2, /is empty/);
});

Deno.test("a truncated image, and one without a boot signature, with and without firmware", async () => {
  await expectOneLine([...NONE, tempFile(new Uint8Array(1000))], 2, /is truncated: 1000 bytes/);
  await expectOneLine(["--headless", tempFile(new Uint8Array(1000))], 2, /is truncated/);
  await expectOneLine(
    ["--headless", tempFile(new Uint8Array(1024))],
    2,
    /not bootable: no boot signature/,
  );
  await expectOneLine(
    [...NONE, tempFile(new Uint8Array(1024))],
    2,
    /not bootable: no boot signature/,
  );
});

Deno.test("an unreadable image (as an unprivileged user)", async () => {
  const dir = worldReadableTemp();
  const path = `${dir}/secret.img`;
  Deno.copyFileSync(fixture("hello"), path);
  Deno.chmodSync(path, 0o000);
  await expectOneLine([...NONE, path], 2, /cannot read image .*permission denied/, {
    uid: 65534,
  });
});

Deno.test("nonsense memory sizes", async () => {
  await expectOneLine([...NONE, "--memory", "0", fixture("hello")], 2, /--memory 0 is too small/);
  await expectOneLine([...NONE, "--memory", "99T", fixture("hello")], 2, /more than this host's/);
  await expectOneLine([...NONE, "--memory", "abc", fixture("hello")], 2, /'abc' is not a size/);
});

Deno.test("nonsense vCPU counts and options", async () => {
  await expectOneLine([...NONE, "--cpus", "0", fixture("hello")], 2, /--cpus '0' must be/);
  await expectOneLine([...NONE, "--cpus", "many", fixture("hello")], 2, /--cpus 'many' must be/);
  await expectOneLine(
    [...NONE, "--frobnicate", fixture("hello")],
    2,
    /unknown option '--frobnicate'/,
  );
  await expectOneLine(["--headless"], 2, /missing required argument 'image'/);
  await expectOneLine([...NONE, "--timeout", "-3", fixture("hello")], 2, /--timeout/);
});

Deno.test("an unknown --vga model, QEMU's qxl, and a size the Cirrus cannot have", async () => {
  await expectOneLine(
    [...NONE, "--vga", "foo", fixture("hello")],
    2,
    /'--vga <model>' argument 'foo' is invalid. Allowed choices are std, cirrus, virtio, none/,
  );
  await expectOneLine([...NONE, "-vga", "qxl", fixture("hello")], 2, /-vga qxl: .*--vga std\|/);
  await expectOneLine(
    [...NONE, "--vga", "cirrus", "--vga-memory", "16M", fixture("hello")],
    2,
    /--vga-memory '16M': the cirrus VGA has 4M/,
  );
});

Deno.test("no /dev/kvm on this host", async () => {
  await expectOneLine(
    [...NONE, fixture("hello")],
    1,
    /\/nonexistent\/kvm does not exist: this host has no KVM/,
    {
      env: { VMRUN_KVM_DEVICE: "/nonexistent/kvm" },
    },
  );
});

Deno.test("/dev/kvm without permission names the kvm group", async () => {
  const dir = worldReadableTemp();
  const path = `${dir}/hello.img`;
  Deno.copyFileSync(fixture("hello"), path);
  Deno.chmodSync(path, 0o644);
  const kvm = `${dir}/kvm`;
  Deno.writeFileSync(kvm, new Uint8Array());
  Deno.chmodSync(kvm, 0o600);
  await expectOneLine([...NONE, path], 1, /no permission to open .*kvm.*kvm group/, {
    uid: 65534,
    env: { VMRUN_KVM_DEVICE: kvm },
  });
});

Deno.test("bad --nic: unknown model, malformed MAC or hostfwd, another network type", async () => {
  const img = fixture("hello");
  await expectOneLine([...NONE, "--nic", "user,model=pcnet", img], 2, /--nic unknown model/);
  await expectOneLine([...NONE, "--nic", "user,mac=52:54:00", img], 2, /--nic mac '52:54:00'/);
  await expectOneLine(
    [...NONE, "--nic", "user,hostfwd=tcp:2222:22", img],
    2,
    /--nic hostfwd 'tcp:2222:22' is malformed/,
  );
  await expectOneLine([...NONE, "--nic", "tap", img], 2, /only user-mode networking/);
  await expectOneLine([...NONE, "-netdev", "bridge,id=n0", img], 2, /user-mode \(libslirp\) only/);
});

Deno.test("a forwarded host port already in use: one line before the guest starts", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    await expectOneLine(
      [...NONE, "--nic", `user,hostfwd=tcp:127.0.0.1:${port}-:22`, fixture("hello")],
      2,
      new RegExp(
        `--nic hostfwd tcp:127.0.0.1:${port}-:22: host port tcp 127.0.0.1:${port} is already in use$`,
      ),
    );
  } finally {
    busy.close();
  }
});

Deno.test("watchdog and sound: unknown models or actions, an unwritable WAV, an action alone", async () => {
  const image = fixture("hello");
  const cases: [string[], RegExp][] = [
    [["--watchdog", "wdt"], /--watchdog 'wdt': unknown watchdog \(ib700, i6300esb\)$/],
    [["--watchdog", "ib700,action=reboot"], /--watchdog 'reboot': unknown watchdog action/],
    [["--device", "ib700", "--watchdog-action", "nmi"], /--watchdog-action 'nmi': unknown/],
    [["--watchdog-action", "pause"], /--watchdog-action needs a watchdog/],
    [["--device", "i6300esb", "-action", "watchdog=inject-nmi"], /actions are reset, poweroff/],
    [["--audio", "wav:x.wav,model=gus"], /unknown sound card 'gus' \(sb16, es1370\)$/],
    [["--audio", "pa"], /--audio 'pa': vmrun records sound to a file/],
    [["--audio", "wav:/nonexistent/dir/x.wav"], /cannot write --audio file '\/nonexistent/],
    [["--device", "ES1370"], /--device ES1370 plays into a file: add --audio wav:<file>$/],
    [["--device", "gus"], /unknown device 'gus' \(known: .*ib700, i6300esb, sb16, ES1370/],
  ];
  for (const [args, pattern] of cases) await expectOneLine([...NONE, ...args, image], 2, pattern);
  // The API names the option.
  for (
    const [options, pattern] of [
      [{ watchdog: "wdt" }, /^watchdog 'wdt': unknown watchdog/],
      [{ watchdogAction: "none" }, /^watchdogAction needs a watchdog/],
      [{ audio: "wav:/nonexistent/dir/x.wav" }, /^cannot write --audio file/],
    ] as const
  ) {
    await rejects(Vm.start({ disk: image, firmware: "none", ...options }), (e: unknown) => {
      ok(e instanceof VmOptionsError, String(e));
      match(e.message, pattern);
      return true;
    });
  }
});
