/**
 * The vmrun command as the README sets it up: bin/vmrun put on the PATH with
 * the README's own command, run from another directory with relative paths.
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";
import { LAUNCHER, ROOT } from "./launcher.ts";
import { PtyVmrun } from "./tui_pty.ts";

/** The README's command that puts vmrun on a normal user's PATH. */
function readmePathStep(): string {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const line = readme.split("\n").find((l) => /ln -s .*bin\/vmrun.* ~\/\.local\/bin/.test(l));
  ok(line, "README has an 'ln -s ... bin/vmrun ~/.local/bin' line");
  return line.replace(/\s+#.*$/, "");
}

/** A user's directory and a bin directory on PATH, set up as the README says. */
function userSetup(): { dir: string; bin: string; env: Record<string, string> } {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-user-" });
  const bin = `${dir}/bin`;
  Deno.mkdirSync(bin);
  // The README's step, with the temporary bin directory for ~/.local/bin.
  const step = readmePathStep().replaceAll("~/.local/bin", bin);
  const r = new Deno.Command("sh", { args: ["-e", "-c", step], cwd: ROOT }).outputSync();
  strictEqual(r.code, 0, new TextDecoder().decode(r.stderr));
  ok(Deno.lstatSync(`${bin}/vmrun`).isSymlink, "the README's step makes a symlink");
  return { dir, bin, env: { PATH: `${bin}:${Deno.env.get("PATH")}` } };
}

function sh(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

kvmTest(
  "vmrun on the PATH, in a terminal, boots a relative image and exits with its status",
  async () => {
    const { dir, env } = userSetup();
    Deno.copyFileSync(fixture("exit_code"), `${dir}/exit.img`);
    Deno.copyFileSync(fixture("bios_hello"), `${dir}/hello.img`);
    try {
      // The console (stdin and stdout are a terminal) and no firmware.
      const console = new PtyVmrun([], {
        shell: `cd ${sh(dir)} && exec vmrun --firmware none --snapshot exit.img`,
        env,
      });
      strictEqual((await console.exited).exitCode, 42, console.screen());
      console.dispose();

      // Through SeaBIOS, headless in the same terminal: only the guest's
      // bytes and vmrun's own lines reach it; Deno writes nothing.
      const bios = new PtyVmrun([], {
        shell: `cd ${sh(dir)} && exec vmrun --headless --snapshot hello.img`,
        env: { ...env, TERM: "dumb" },
      });
      strictEqual((await bios.exited).exitCode, 7, bios.output);
      strictEqual(bios.output.replaceAll("\r", ""), "vmrun booted this sector\n");
      bios.dispose();

      // --version through the terminal is exactly the version line.
      const version = new PtyVmrun([], { shell: `cd ${sh(dir)} && exec vmrun --version`, env });
      strictEqual((await version.exited).exitCode, 0);
      const pkg = JSON.parse(Deno.readTextFileSync(`${ROOT}package.json`));
      strictEqual(version.output, `${pkg.version}\r\n`);
      version.dispose();
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

kvmTest("every path vmrun takes resolves against the caller's directory", async () => {
  const { dir, env } = userSetup();
  try {
    Deno.copyFileSync(fixture("keys"), `${dir}/guest.img`);
    Deno.mkdirSync(`${dir}/fw`);
    Deno.copyFileSync("/usr/share/seabios/bios.bin", `${dir}/fw/bios.bin`);
    Deno.writeFileSync(`${dir}/data.img`, new Uint8Array(64 * 512));
    Deno.mkdirSync(`${dir}/out`);
    const args = [
      "guest.img",
      "--firmware",
      "fw/bios.bin",
      "--disk",
      "data.img",
      "--snapshot",
      "--headless",
      "--timeout",
      "120",
      "--serial-log",
      "out/serial.log",
      "--report",
      "out/report.json",
      "--control",
      "out/ctl.sock",
      "--expect-screen",
      "keys\\?",
      "--screenshot",
      "out/shot.png",
    ];
    const run = new Deno.Command("vmrun", {
      args,
      cwd: dir,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // The control socket appears in the caller's directory; a relative path
    // for `vmrun ctl` finds it there too. Esc ends the keys guest.
    const deadline = Date.now() + 60_000;
    while (!exists(`${dir}/out/ctl.sock`) || !exists(`${dir}/out/shot.png`)) {
      ok(Date.now() < deadline, "the control socket and screenshot appear in out/");
      await new Promise((r) => setTimeout(r, 100));
    }
    const ctl = await new Deno.Command("vmrun", {
      args: ["ctl", "out/ctl.sock", "key", "Esc"],
      cwd: dir,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    strictEqual(ctl.code, 0, new TextDecoder().decode(ctl.stderr));
    const r = await run.output();
    const stderr = new TextDecoder().decode(r.stderr);
    strictEqual(r.code, 0, stderr);
    match(Deno.readTextFileSync(`${dir}/out/serial.log`), /keys\?/);
    const png = Deno.readFileSync(`${dir}/out/shot.png`);
    deepStrictEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    const report = JSON.parse(Deno.readTextFileSync(`${dir}/out/report.json`));
    strictEqual(report.status, 0);
    ok(String(report.image).endsWith("guest.img"), report.image);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the launcher without an installed Deno says what to run, in one line", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-bare-" });
  try {
    Deno.mkdirSync(`${dir}/bin`);
    Deno.copyFileSync(LAUNCHER, `${dir}/bin/vmrun`);
    Deno.chmodSync(`${dir}/bin/vmrun`, 0o755);
    const r = await new Deno.Command(`${dir}/bin/vmrun`, {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    strictEqual(r.code, 1);
    strictEqual(new TextDecoder().decode(r.stdout), "");
    strictEqual(
      new TextDecoder().decode(r.stderr),
      `vmrun: Deno is not installed in ${dir}: run 'npm install' there\n`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
