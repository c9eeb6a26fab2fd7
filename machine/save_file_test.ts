import assert from "node:assert/strict";
import {
  checkSaveFileComplete,
  readSaveFile,
  readSaveHeader,
  SAVE_FORMAT_VERSION,
  SAVE_PAGE_SIZE,
  SaveFileError,
  type SyncReader,
  type SyncWriter,
  writeSaveFile,
} from "./save_file.ts";

/** Collects writes; counts them to show large memory runs go out in one piece. */
class MemoryFile implements SyncWriter, SyncReader {
  chunks: Uint8Array[] = [];
  writes = 0;
  #pos = 0;
  #all: Uint8Array | null = null;
  writeSync(p: Uint8Array): number {
    this.writes++;
    // Short writes must be retried by the writer.
    const n = Math.min(p.length, 1 << 20);
    this.chunks.push(p.slice(0, n));
    return n;
  }
  bytes(): Uint8Array {
    if (!this.#all) {
      const total = this.chunks.reduce((n, c) => n + c.length, 0);
      this.#all = new Uint8Array(total);
      let at = 0;
      for (const c of this.chunks) this.#all.set(c, (at += c.length) - c.length);
    }
    return this.#all;
  }
  readSync(p: Uint8Array): number | null {
    const all = this.bytes();
    if (this.#pos >= all.length) return null;
    // Short reads, as a pipe would give.
    const n = Math.min(p.length, all.length - this.#pos, 3000);
    p.set(all.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return n;
  }
}

function reader(bytes: Uint8Array): SyncReader {
  let pos = 0;
  return {
    readSync(p) {
      if (pos >= bytes.length) return null;
      const n = Math.min(p.length, bytes.length - pos);
      p.set(bytes.subarray(pos, pos + n));
      pos += n;
      return n;
    },
  };
}

function sampleRam(size: number): Uint8Array {
  const ram = new Uint8Array(size);
  // A few scattered pages, a long run, and a byte in the very last page.
  ram[5] = 1;
  ram.fill(0xab, 10 * SAVE_PAGE_SIZE, 300 * SAVE_PAGE_SIZE);
  ram[size - 1] = 0x5a;
  ram[1025 * SAVE_PAGE_SIZE + 17] = 3;
  return ram;
}

const header = { format: 1, config: { memoryBytes: 8 << 20 }, disks: [] };

Deno.test("RAM, state and overlays come back exactly; zero pages cost nothing", () => {
  const ram = sampleRam(8 << 20);
  const vram = new Uint8Array(1 << 20);
  vram[4096 * 7] = 9;
  const state = { devices: { uart: { version: 1, fifo: new Uint8Array([1, 2]) } } };
  const overlay = new Map([[3, new Uint8Array(4096).fill(1)], [0, new Uint8Array(4096).fill(2)]]);
  const file = new MemoryFile();
  const written = writeSaveFile(file, {
    header,
    state,
    memory: [{ name: "ram", bytes: ram }, { name: "vram", bytes: vram }],
    overlays: [{ disk: 1, chunkSize: 4096, chunks: overlay }],
  });
  const nonZeroPages = 1 + 290 + 1 + 1;
  assert.ok(written < (nonZeroPages + 8) * SAVE_PAGE_SIZE, `${written} bytes written`);
  assert.ok(file.writes < 40, `${file.writes} writes: memory runs go out whole`);

  const ram2 = new Uint8Array(ram.length).fill(0xee); // not fresh: skipped pages must be zeroed
  const vram2 = new Uint8Array(vram.length);
  let seenHeader: unknown = null;
  const saved = readSaveFile(file, {
    checkHeader: (h) => seenHeader = h,
    memoryTarget: (name) => (name === "ram" ? ram2 : name === "vram" ? vram2 : null),
  });
  assert.deepEqual(seenHeader, header);
  assert.deepEqual(saved.header, header);
  assert.deepEqual(saved.state, state);
  assert.ok(ram2.every((b, i) => b === ram[i]));
  assert.deepEqual(vram2, vram);
  assert.equal(saved.overlays.length, 1);
  assert.equal(saved.overlays[0].disk, 1);
  assert.deepEqual([...saved.overlays[0].chunks.keys()].sort(), [0, 3]);
  assert.deepEqual(saved.overlays[0].chunks.get(3), overlay.get(3));
  assert.equal(saved.memoryBytes, nonZeroPages * SAVE_PAGE_SIZE + SAVE_PAGE_SIZE);
});

function validFile(): Uint8Array {
  const file = new MemoryFile();
  writeSaveFile(file, {
    header,
    state: { a: 1 },
    memory: [{ name: "ram", bytes: sampleRam(1 << 20) }],
    overlays: [],
  });
  return file.bytes();
}

Deno.test("every truncation of a save file is refused as truncated or damaged", () => {
  const bytes = validFile();
  const target = () => new Uint8Array(1 << 20);
  // Every cut in the small sections, and a sample of cuts through the memory.
  for (let n = 0; n < bytes.length; n += n < 300 || n > bytes.length - 40 ? 1 : 997) {
    assert.throws(
      () => readSaveFile(reader(bytes.subarray(0, n)), { memoryTarget: target }),
      SaveFileError,
      `cut at ${n}`,
    );
  }
});

Deno.test("a foreign file, a newer format and a wrong memory size are refused", () => {
  const target = () => new Uint8Array(1 << 20);
  const foreign = new TextEncoder().encode("\x7fELF and then some more bytes");
  assert.throws(
    () => readSaveFile(reader(foreign), { memoryTarget: target }),
    /not a vmrun save file/,
  );
  const newer = validFile();
  new DataView(newer.buffer).setUint32(8, SAVE_FORMAT_VERSION + 1, true);
  assert.throws(
    () => readSaveFile(reader(newer), { memoryTarget: target }),
    /newer than this vmrun reads/,
  );
  assert.throws(
    () => readSaveFile(reader(validFile()), { memoryTarget: () => new Uint8Array(2 << 20) }),
    /1048576 bytes in the save file, 2097152 here/,
  );
  assert.throws(
    () => readSaveFile(reader(validFile()), { memoryTarget: () => null }),
    /unknown memory 'ram'/,
  );
});

Deno.test("checkHeader can refuse before memory is read", () => {
  let asked = false;
  assert.throws(
    () =>
      readSaveFile(reader(validFile()), {
        checkHeader: () => {
          throw new SaveFileError("the image changed");
        },
        memoryTarget: () => {
          asked = true;
          return null;
        },
      }),
    /the image changed/,
  );
  assert.equal(asked, false);
});

Deno.test("readSaveHeader reads the header alone, and the state is seen before memory", () => {
  const bytes = validFile();
  assert.deepEqual(readSaveHeader(reader(bytes)), header);
  assert.throws(() => readSaveHeader(reader(bytes.subarray(0, 20))), SaveFileError);
  const order: string[] = [];
  readSaveFile(reader(bytes), {
    onState: () => order.push("state"),
    memoryTarget: (name) => {
      order.push(name);
      return new Uint8Array(1 << 20);
    },
  });
  assert.deepEqual(order, ["state", "ram"]);
});

Deno.test("checkSaveFileComplete walks to the end marker and finds any cut", () => {
  const bytes = validFile();
  const seekable = (b: Uint8Array) => {
    let pos = 0;
    return {
      readSync(p: Uint8Array) {
        if (pos >= b.length) return null;
        const n = Math.min(p.length, b.length - pos);
        p.set(b.subarray(pos, pos + n));
        pos += n;
        return n;
      },
      seekSync(offset: number) {
        return pos = offset;
      },
    };
  };
  checkSaveFileComplete(seekable(bytes), bytes.length);
  for (const n of [10, 40, 200, bytes.length - 17, bytes.length - 1]) {
    const cut = bytes.subarray(0, n);
    assert.throws(() => checkSaveFileComplete(seekable(cut), cut.length), SaveFileError, `${n}`);
  }
});

Deno.test("pages a resident map marks as never backed are not read: they restore as zero", () => {
  const ram = new Uint8Array(64 * SAVE_PAGE_SIZE);
  ram[3 * SAVE_PAGE_SIZE] = 7; // resident, non-zero: kept
  ram[9 * SAVE_PAGE_SIZE] = 9; // marked not resident: the writer must not look
  const resident = new Uint8Array(64);
  resident[3] = 1;
  resident[4] = 1; // resident but zero: scanned and skipped
  const file = new MemoryFile();
  writeSaveFile(file, {
    header,
    state: {},
    memory: [{ name: "ram", bytes: ram, resident }],
    overlays: [],
  });
  const back = new Uint8Array(ram.length).fill(0xee);
  const saved = readSaveFile(file, { memoryTarget: () => back });
  assert.equal(saved.memoryBytes, SAVE_PAGE_SIZE);
  assert.equal(back[3 * SAVE_PAGE_SIZE], 7);
  assert.equal(back[9 * SAVE_PAGE_SIZE], 0);
  assert.ok(back.every((b, i) => i === 3 * SAVE_PAGE_SIZE || b === 0));
});

Deno.test("restore clears only the pages a target resident map says may hold data", () => {
  const file = new MemoryFile();
  const ram = new Uint8Array(16 * SAVE_PAGE_SIZE);
  ram[2 * SAVE_PAGE_SIZE] = 5;
  writeSaveFile(file, { header, state: {}, memory: [{ name: "ram", bytes: ram }], overlays: [] });
  const target = new Uint8Array(ram.length);
  target[7 * SAVE_PAGE_SIZE] = 1; // stale data on a page the map calls resident: cleared
  target[9 * SAVE_PAGE_SIZE] = 1; // on a page it calls never backed: left (the map is trusted)
  const resident = new Uint8Array(16);
  resident[7] = 1;
  readSaveFile(file, { memoryTarget: () => target, targetResident: () => resident });
  assert.equal(target[2 * SAVE_PAGE_SIZE], 5);
  assert.equal(target[7 * SAVE_PAGE_SIZE], 0);
  assert.equal(target[9 * SAVE_PAGE_SIZE], 1);
});
