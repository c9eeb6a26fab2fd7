import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { SteppedClock } from "../clock.ts";
import { pciConfigStep } from "../testing/pci_config_walk.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import {
  assertRestoreIdentity,
  assertRestoreRejects,
  assertSameBehaviour,
  type Twin,
} from "../testing/snapshot_check.ts";
import { decodePam, I440fx, PAM0, type PamRegion, SMRAM } from "./i440fx.ts";
import { Piix3 } from "./piix3.ts";

function summary(regions: PamRegion[]): string[] {
  return regions.map((r) => `${r.base.toString(16)}+${r.size.toString(16)}:${r.read}/${r.write}`);
}

Deno.test("identity: 8086:1237 revision 2, host bridge class", () => {
  const nb = new I440fx();
  strictEqual(nb.config.read(0x00, 4), 0x12378086);
  strictEqual(nb.config.read(0x08, 4), 0x06000002);
  strictEqual(nb.config.read(0x0e, 1), 0x00);
  strictEqual(nb.config.read(SMRAM, 1), 0x02);
});

Deno.test("PAM ranges: F0000 from PAM0's high nibble, then 16 KiB ranges from C0000", () => {
  const regions = new I440fx().pamRegions();
  strictEqual(regions.length, 13);
  deepStrictEqual(regions[0], { base: 0xf0000, size: 0x10000, read: "pci", write: "pci" });
  deepStrictEqual(
    regions.slice(1).map((r) => r.base),
    Array.from({ length: 12 }, (_, i) => 0xc0000 + i * 0x4000),
  );
  strictEqual(regions.slice(1).every((r) => r.size === 0x4000), true);
});

Deno.test("PAM writes decode RE and WE per nibble and are reported", () => {
  const seen: string[][] = [];
  const nb = new I440fx({ onPamChange: (r) => seen.push(summary(r)) });
  // SeaBIOS makes the BIOS range read/write to copy itself, then read-only.
  nb.config.write(0x59, 1, 0x30);
  strictEqual(seen.length, 1);
  strictEqual(seen[0][0], "f0000+10000:ram/ram");
  nb.config.write(0x59, 1, 0x10);
  strictEqual(seen[1][0], "f0000+10000:ram/pci");
  // PAM1: low nibble read-only (C0000), high nibble write-only (C4000).
  nb.config.write(0x5a, 1, 0x21);
  deepStrictEqual(seen[2].slice(1, 3), ["c0000+4000:ram/pci", "c4000+4000:pci/ram"]);
  // A dword write covering PAM3-PAM6.
  nb.config.write(0x5c, 4, 0x33333333);
  deepStrictEqual(
    seen[3].slice(5),
    [0xd0000, 0xd4000, 0xd8000, 0xdc000, 0xe0000, 0xe4000, 0xe8000, 0xec000]
      .map((b) => `${b.toString(16)}+4000:ram/ram`),
  );
  strictEqual(seen[3][3], "c8000+4000:pci/pci"); // PAM2 untouched
  // Rewriting the same values reports nothing.
  nb.config.write(0x5c, 4, 0x33333333);
  strictEqual(seen.length, 4);
});

Deno.test("PAM reserved bits and PAM0's low nibble read as zero", () => {
  const nb = new I440fx();
  nb.config.write(0x59, 1, 0xff);
  nb.config.write(0x5a, 1, 0xff);
  strictEqual(nb.config.read(0x59, 1), 0x30);
  strictEqual(nb.config.read(0x5a, 1), 0x33);
});

Deno.test("decodePam reads raw register bytes", () => {
  const bytes = new Uint8Array(256);
  bytes[0x5f] = 0x12; // PAM6: E8000 write-only (low nibble), EC000 read-only (high)
  const r = decodePam(bytes);
  deepStrictEqual(summary(r).slice(11), ["e8000+4000:pci/ram", "ec000+4000:ram/pci"]);
});

Deno.test("reset puts PAM back to PCI and reports it", () => {
  const seen: string[][] = [];
  const nb = new I440fx({ onPamChange: (r) => seen.push(summary(r)) });
  nb.config.write(0x59, 1, 0x30);
  nb.reset();
  strictEqual(seen.length, 2);
  strictEqual(seen[1][0], "f0000+10000:pci/pci");
  strictEqual(nb.config.read(0x04, 2), 0x0006);
  nb.reset();
  strictEqual(seen.length, 2);
});

Deno.test("SMRAM: D_OPEN, D_CLS, G_SMRAME writable; D_LCK clears D_OPEN and locks until reset", () => {
  const nb = new I440fx();
  nb.config.write(SMRAM, 1, 0xff & ~0x10); // everything but D_LCK
  strictEqual(nb.config.read(SMRAM, 1), 0x6a); // base segment stays 010b, bit 7 reserved
  nb.config.write(SMRAM, 1, 0x58); // D_OPEN | D_LCK | G_SMRAME
  strictEqual(nb.config.read(SMRAM, 1), 0x1a);
  nb.config.write(SMRAM, 1, 0x40); // cannot reopen or unlock
  strictEqual(nb.config.read(SMRAM, 1), 0x1a);
  nb.config.write(SMRAM, 1, 0x20); // D_CLS still writable
  strictEqual(nb.config.read(SMRAM, 1), 0x3a);
  // A dword write covering 0x70-0x73 reaches SMRAM in byte lane 2.
  nb.config.write(0x70, 4, 0x00000000);
  strictEqual(nb.config.read(SMRAM, 1), 0x1a);
  nb.reset();
  strictEqual(nb.config.read(SMRAM, 1), 0x02);
  nb.config.write(0x70, 4, 0x00480000);
  strictEqual(nb.config.read(SMRAM, 1), 0x4a);
});

interface NbTwin extends Twin {
  readonly nb: I440fx;
}

function nbTwin(): NbTwin {
  const events: string[] = [];
  const nb = new I440fx({ onPamChange: (r) => events.push(summary(r).join(",")) });
  return { clock: new SteppedClock(), events, nb };
}

const PAM_VALUES = [0x00, 0x11, 0x33, 0x30, 0x03, 0x10, 0x22];
const nbStep = (rng: SeededRandom, t: NbTwin) =>
  pciConfigStep(rng, t.nb.config, [
    ...Array.from({ length: 7 }, (_, i) => ({ offset: PAM0 + i, values: PAM_VALUES })),
    { offset: SMRAM, values: [0x0a, 0x4a, 0x1a, 0x2a, 0x00, 0x5a] },
  ]);

Deno.test("snapshot/restore: identity, PAM reported again, identical behaviour afterwards", () => {
  let shadowed = 0;
  for (let seed = 1; seed <= 80; seed++) {
    const rng = new SeededRandom(seed);
    const a = nbTwin();
    for (let i = rng.below(80); i > 0; i--) nbStep(rng, a);
    const b = nbTwin();
    const s = assertRestoreIdentity(a.nb, b.nb);
    const changed = s.pam.some((p) => p !== 0);
    deepStrictEqual(b.events, changed ? [summary(a.nb.pamRegions()).join(",")] : []);
    if (changed && s.smram.value !== 0x02) shadowed++;
    assertSameBehaviour(a, b, seed + 1000, 100, nbStep);
  }
  ok(shadowed >= 10, `only ${shadowed} snapshots with PAM and SMRAM programmed`);
  const nb = new I440fx();
  assertRestoreRejects(nb, nb.snapshot(), [{ config: null }, {
    config: new Piix3().snapshot().config,
  }]);
});
