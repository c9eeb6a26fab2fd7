import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SKIP = new Set(["node_modules", ".git", "fixtures/build"]);

/** Every TypeScript file of the checkout, relative to its root. */
function sources(dir = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${ROOT}${dir}`)) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (SKIP.has(rel)) continue;
    if (e.isDirectory) out.push(...sources(rel));
    else if (/\.tsx?$/.test(e.name)) out.push(rel);
  }
  return out;
}

/** The module specifiers a file imports or re-exports, statically or dynamically. */
function specifiers(text: string): string[] {
  const found = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms),
    ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
    ...text.matchAll(/^import\s+"([^"]+)"/gm),
  ];
  return found.map((m) => m[1]);
}

Deno.test("npm packages are named only in deps/, each with an exact version", () => {
  const outside: string[] = [];
  const loose: string[] = [];
  for (const file of sources()) {
    const text = Deno.readTextFileSync(`${ROOT}${file}`);
    for (const spec of specifiers(text)) {
      if (spec.startsWith(".") || spec.startsWith("node:")) continue;
      if (!file.startsWith("deps/") || !spec.startsWith("npm:")) outside.push(`${file}: ${spec}`);
      else if (!/^npm:(@[\w.-]+\/)?[\w.-]+@\d+\.\d+\.\d+(\/.*)?$/.test(spec)) {
        loose.push(`${file}: ${spec}`);
      }
    }
    ok(!/\/\*\*\s*@jsxImportSource/.test(text), `${file}: JSX comes from deno.json, not a pragma`);
  }
  deepStrictEqual(outside, [], "bare or npm: specifiers outside deps/");
  deepStrictEqual(loose, [], "npm: specifiers without an exact version");
});

Deno.test("deno.json's JSX runtime is the React that deps/react.ts pins", () => {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const react = Deno.readTextFileSync(`${ROOT}deps/react.ts`);
  const runtime = react.match(/"(npm:react@[\d.]+)"/)?.[1];
  const types = react.match(/@ts-types="(npm:@types\/react@[\d.]+)"/)?.[1];
  ok(runtime && types, "deps/react.ts names react and @types/react");
  strictEqual(config.compilerOptions.jsxImportSource, runtime);
  strictEqual(config.compilerOptions.jsxImportSourceTypes, types);
});

Deno.test("npm installs only the pinned Deno, and never writes a lock file", () => {
  const pkg = JSON.parse(Deno.readTextFileSync(`${ROOT}package.json`));
  // An optional dependency: npm installs it (and runs its postinstall), while
  // Deno, which reads only dependencies and devDependencies, never fetches
  // its 90 MB binary into every user's cache.
  deepStrictEqual(Object.keys(pkg.optionalDependencies), ["deno"]);
  ok(/^\d+\.\d+\.\d+$/.test(pkg.optionalDependencies.deno), pkg.optionalDependencies.deno);
  strictEqual(pkg.dependencies, undefined);
  strictEqual(pkg.devDependencies, undefined);
  // npm 12 runs a dependency's install script only when allowScripts names it.
  deepStrictEqual(pkg.allowScripts, { [`deno@${pkg.optionalDependencies.deno}`]: true });
  deepStrictEqual(pkg.bin, { vmrun: "bin/vmrun" });
  ok(/^package-lock=false$/m.test(Deno.readTextFileSync(`${ROOT}.npmrc`)));
  strictEqual(Deno.version.deno, pkg.optionalDependencies.deno, "the tests run on the pinned Deno");
  const lock = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.lock`));
  deepStrictEqual(Object.keys(lock.npm).filter((p) => /^(deno|@deno\/)/.test(p)), []);
});
