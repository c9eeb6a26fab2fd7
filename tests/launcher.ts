/**
 * The vmrun command as users run it (bin/vmrun), and a copy of the checkout
 * that another user can run: tests must not depend on where the checkout
 * lives (under /root, other users cannot even reach it).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The checkout's root directory, with a trailing slash. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The launcher, bin/vmrun. */
export const LAUNCHER = `${ROOT}bin/vmrun`;

/** What an unprivileged user needs to run vmrun, all world-readable. */
export interface UnprivilegedCheckout {
  /** A copy of the sources (no node_modules, no fixtures/build). */
  readonly root: string;
  /** The copy's launcher, bin/vmrun. */
  readonly launcher: string;
  /** A DENO_DIR holding the npm packages deno.lock names, writable by everyone. */
  readonly denoDir: string;
}

let unprivileged: UnprivilegedCheckout | undefined;

/**
 * Copies the checkout's sources, this Deno (where npm would install it) and
 * the locked npm packages from this user's Deno cache into a world-readable
 * temporary directory, once per test process: another user runs the copy's
 * launcher with that cache and needs no network.
 */
export function unprivilegedCheckout(): UnprivilegedCheckout {
  if (unprivileged) return unprivileged;
  const base = Deno.makeTempDirSync({ prefix: "vmrun-unprivileged-" });
  Deno.chmodSync(base, 0o755);
  // A copy of Deno is 100 MB: never leave one behind.
  globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
  const root = `${base}/vmrun`;
  copyTree(ROOT, root, (rel) => !["node_modules", ".git", "fixtures/build"].includes(rel));
  // Where npm puts the pinned Deno, for the copy's launcher to find.
  const deno = `${root}/node_modules/deno/deno`;
  Deno.mkdirSync(`${root}/node_modules/deno`, { recursive: true, mode: 0o755 });
  Deno.chmodSync(`${root}/node_modules`, 0o755);
  Deno.chmodSync(`${root}/node_modules/deno`, 0o755);
  Deno.copyFileSync(Deno.execPath(), deno);
  Deno.chmodSync(deno, 0o755);
  const denoDir = `${base}/deno_dir`;
  const npmTo = `${denoDir}/npm/registry.npmjs.org`;
  const npmFrom = `${npmCache()}/registry.npmjs.org`;
  for (const { name, version } of lockedNpmPackages()) {
    if (!exists(`${npmFrom}/${name}/${version}`)) continue; // another platform's binary
    copyTree(`${npmFrom}/${name}/${version}`, `${npmTo}/${name}/${version}`, () => true);
    // Packuments are there only when Deno resolved without the lock.
    const packument = `${npmFrom}/${name}/registry.json`;
    if (exists(packument)) Deno.copyFileSync(packument, `${npmTo}/${name}/registry.json`);
  }
  // Deno keeps its own caches (code, type checks) there too.
  Deno.chmodSync(denoDir, 0o777);
  unprivileged = { root, launcher: `${root}/bin/vmrun`, denoDir };
  return unprivileged;
}

/** The npm packages deno.lock pins, by name and version. */
export function lockedNpmPackages(): { name: string; version: string }[] {
  const lock = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.lock`));
  return Object.keys(lock.npm ?? {}).map((key) => {
    // name@version, then _peer@version for peer dependencies
    const [, name, version] = key.match(/^((?:@[^/]+\/)?[^@]+)@([^_]+)/)!;
    return { name, version };
  });
}

function npmCache(): string {
  const r = new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" })
    .outputSync();
  return JSON.parse(new TextDecoder().decode(r.stdout)).npmCache;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Copies a directory tree (files, directories, symlinks), skipping what `keep` refuses. */
function copyTree(from: string, to: string, keep: (rel: string) => boolean, rel = ""): void {
  Deno.mkdirSync(to, { recursive: true, mode: 0o755 });
  Deno.chmodSync(to, 0o755);
  for (const entry of Deno.readDirSync(from)) {
    const sub = rel ? `${rel}/${entry.name}` : entry.name;
    if (!keep(sub)) continue;
    const src = `${from}/${entry.name}`;
    const dst = `${to}/${entry.name}`;
    if (entry.isSymlink) {
      Deno.symlinkSync(Deno.readLinkSync(src), dst);
    } else if (entry.isDirectory) {
      copyTree(src, dst, keep, sub);
    } else {
      Deno.copyFileSync(src, dst);
      Deno.chmodSync(dst, Deno.statSync(src).mode! & 0o111 ? 0o755 : 0o644);
    }
  }
}
