/**
 * Errors from the machine layer that belong to the public API,
 * named here with the API's documentation.
 *
 * @module
 */

import { KeyNameError as DeviceKeyNameError } from "../devices/keymap.ts";
import { KvmUnavailableError as KvmLayerUnavailableError } from "../kvm/errors.ts";
import { ImageLockedError as MachineImageLockedError } from "../machine/disk_locks.ts";
import { BalloonError as MachineBalloonError } from "../machine/balloon.ts";

/**
 * Another VM (in this process or another) holds a conflicting lock on an
 * image: a writable image is locked exclusively, a read-only or `snapshot`
 * one shared. `path` names the image.
 *
 * @example
 * ```ts
 * import { ImageLockedError, Vm } from "../mod.ts";
 * try {
 *   await using vm = await Vm.start({ disk: "guest.img" });
 * } catch (e) {
 *   if (e instanceof ImageLockedError) console.error(`${e.path} is busy`);
 * }
 * ```
 */
export const ImageLockedError: typeof MachineImageLockedError = MachineImageLockedError;
/** An {@link ImageLockedError} instance. */
export type ImageLockedError = MachineImageLockedError;

/**
 * A key name, combination or character that cannot be turned into PS/2 keys.
 *
 * @example
 * ```ts
 * import { KeyNameError, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * await vm.keyboard.press("Hyper+Q").catch((e) => {
 *   if (!(e instanceof KeyNameError)) throw e;
 * });
 * ```
 */
export const KeyNameError: typeof DeviceKeyNameError = DeviceKeyNameError;
/** A {@link KeyNameError} instance. */
export type KeyNameError = DeviceKeyNameError;

/**
 * /dev/kvm is missing or cannot be opened; the message says what to do.
 *
 * @example
 * ```ts
 * import { KvmUnavailableError, Vm } from "../mod.ts";
 * try {
 *   await using vm = await Vm.start({ disk: "guest.img" });
 * } catch (e) {
 *   if (e instanceof KvmUnavailableError) console.error("no KVM here:", e.message);
 * }
 * ```
 */
export const KvmUnavailableError: typeof KvmLayerUnavailableError = KvmLayerUnavailableError;
/** A {@link KvmUnavailableError} instance. */
export type KvmUnavailableError = KvmLayerUnavailableError;

/**
 * A balloon request that cannot be carried out: the VM has no
 * `virtio-balloon-pci`, the target is not a whole number of MiB from 1 to
 * the guest's RAM, or the run has ended. Its message is one line.
 *
 * @example
 * ```ts
 * import { BalloonError, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", memory: "128M", device: "virtio-balloon-pci" });
 * try {
 *   await vm.balloon(4096);
 * } catch (e) {
 *   if (e instanceof BalloonError) console.error(e.message);
 * }
 * ```
 */
export const BalloonError: typeof MachineBalloonError = MachineBalloonError;
/** A {@link BalloonError} instance. */
export type BalloonError = MachineBalloonError;
