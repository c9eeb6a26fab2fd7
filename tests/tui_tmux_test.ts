/**
 * The console TUI in tmux, as a person over SSH sees it: tmux is the
 * terminal, send-keys types and capture-pane reads the screen.
 */

import { ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";
import { CLI } from "./vmrun_process.ts";

/** A tmux server of its own, so that the test never touches the user's. */
class Tmux {
  readonly socket = `vmrun-test-${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;

  async run(...args: string[]): Promise<string> {
    const r = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stderr: "piped",
    })
      .output();
    if (!r.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(r.stderr)}`);
    return new TextDecoder().decode(r.stdout);
  }

  /** The pane's text; with escapes for colours when `styled`. */
  capture(styled = false): Promise<string> {
    return this.run("capture-pane", "-p", ...(styled ? ["-e"] : []), "-t", "vm");
  }

  /** Waits until the screen satisfies `cond` and returns it. */
  async waitUntil(what: string, cond: (screen: string) => boolean, ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const screen = await this.capture();
      if (cond(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; screen:\n${screen}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until the screen shows `text`. */
  waitFor(text: string, ms?: number): Promise<string> {
    return this.waitUntil(JSON.stringify(text), (s) => s.includes(text), ms);
  }

  async kill(): Promise<void> {
    await this.run("kill-server").catch(() => {});
  }
}

kvmTest(
  "tmux: the console shows the guest, takes keys, follows a resize and quits cleanly",
  async () => {
    const t = new Tmux();
    // --snapshot: other test files boot the same fixture at the same time.
    const vmrun = `'${Deno.execPath()}' run -A '${CLI}' --snapshot '${fixture("keys")}'`;
    try {
      await t.run(
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "vm",
        "-x",
        "120",
        "-y",
        "40",
        "-e",
        "COLORTERM=",
        "-e",
        "NO_COLOR=",
        `${vmrun}; echo "vmrun exited $?"; sleep 30`,
      );
      const screen = await t.waitFor("keys?");
      const rows = screen.split("\n");
      ok(rows[0].includes("keys.img"), rows[0]);
      ok(rows[2].startsWith("│SeaBIOS (version"), rows[2]);
      // tmux's TERM has 256 colours: light grey text (0xAAAAAA) is the cube's nearest, 248.
      const styled = (await t.capture(true)).split("\n")[2];
      // deno-lint-ignore no-control-regex
      ok(/\x1b\[[0-9;]*38;5;248[;m]/.test(styled), JSON.stringify(styled.slice(0, 80)));

      await t.run("send-keys", "-t", "vm", "-l", "hi!");
      await t.run("send-keys", "-t", "vm", "Enter", "F1", "C-c");
      await t.waitFor("68:23 69:17 21:02 0d:1c 00:3b 03:2e");

      await t.run("resize-window", "-t", "vm", "-x", "70", "-y", "20");
      // tmux may pass through an intermediate size: wait for the final layout.
      const small = await t.waitUntil(
        "the 70x20 layout",
        (s) => s.split("\n")[19]?.includes("Ctrl-a ? help") ?? false,
      );
      ok(small.includes("cropped"), small);
      ok(small.includes("stats, devices: no room"), small);
      ok(small.split("\n")[1].startsWith("╭─ Screen 80x25 text"), small);

      await t.run("send-keys", "-t", "vm", "C-a", "x");
      const after = await t.waitFor("vmrun exited 0");
      ok(!after.includes("Ctrl-a ? help"), "the console is gone");
      strictEqual(
        (await t.run("display-message", "-p", "-t", "vm", "#{alternate_on} #{cursor_flag}")).trim(),
        "0 1",
      );
    } finally {
      await t.kill();
    }
  },
);
