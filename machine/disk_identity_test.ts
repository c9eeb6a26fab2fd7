import assert from "node:assert/strict";
import { changedDisks, diskIdentities } from "./disk_identity.ts";

function disk(path: string) {
  return { path, interface: "ide", media: "disk", readonly: false } as const;
}

Deno.test("an untouched image is the same; written, resized, replaced or gone ones are not", () => {
  const dir = Deno.makeTempDirSync();
  const paths = ["a", "b", "c", "d", "e"].map((n) => `${dir}/${n}.img`);
  for (const p of paths) Deno.writeFileSync(p, new Uint8Array(4096));
  const saved = diskIdentities(paths.map(disk));
  assert.deepEqual(changedDisks(saved), []);

  const later = new Date(Date.now() + 5000);
  Deno.utimeSync(paths[1], later, later);
  Deno.truncateSync(paths[2], 8192);
  // Made while the old file still holds its inode, then renamed over it.
  Deno.writeFileSync(`${dir}/new`, new Uint8Array(4096));
  Deno.renameSync(`${dir}/new`, paths[3]);
  Deno.removeSync(paths[4]);
  assert.deepEqual(changedDisks(saved), [
    `${paths[1]} was modified after the save`,
    `${paths[2]} is 8192 bytes, was 4096`,
    `${paths[3]} is another file`,
    `${paths[4]} is gone`,
  ]);
  Deno.removeSync(dir, { recursive: true });
});
