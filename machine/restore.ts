/**
 * Starting a machine from a save file, main-thread side: read and check the
 * header before anything is built (version, configuration, the disks'
 * identities), so a bad file is one clear line and nothing is locked or
 * started.
 *
 * @module
 */

import { checkSaveFileComplete, readSaveHeader, SaveFileError } from "./save_file.ts";
import { checkSaveHeader, type SaveHeader } from "./saved_vm.ts";

/**
 * Reads and checks a save file's header.
 * @param force restore even when the disks changed since the save
 * @throws {SaveFileError} for an unreadable, truncated, foreign or newer file, or changed disks
 */
export function openSaveFile(path: string, force = false): SaveHeader {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new SaveFileError(`cannot read save file '${path}': ${why}`);
  }
  try {
    const header = checkSaveHeader(readSaveHeader(file), force);
    file.seekSync(0, Deno.SeekMode.Start);
    checkSaveFileComplete(file, file.statSync().size);
    return header;
  } catch (e) {
    if (e instanceof SaveFileError) throw new SaveFileError(`${path}: ${e.message}`);
    throw e;
  } finally {
    file.close();
  }
}
