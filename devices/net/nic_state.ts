/**
 * The NIC rows of the board state: each NIC's model, MAC, link and traffic
 * counters beside its typed device state, for the devices pane, the API and
 * save files.
 *
 * @module
 */

import { E1000, type E1000State } from "./e1000.ts";
import { formatMac, type Nic, type NicCounters } from "./nic.ts";
import { VirtioNet, type VirtioNetState } from "./virtio_net.ts";
import { StateError } from "../types.ts";
import { Rtl8139, type Rtl8139State } from "./rtl8139.ts";
import { Ne2kPci, type Ne2kState } from "./ne2k_pci.ts";

/** A NIC's state as the board reports it. */
export type NicState =
  & { readonly mac: string; readonly link: boolean; readonly counters: NicCounters }
  & (
    | { readonly model: "e1000"; readonly device: E1000State }
    | { readonly model: "virtio"; readonly device: VirtioNetState }
    | { readonly model: "rtl8139"; readonly device: Rtl8139State }
    | { readonly model: "ne2k_pci"; readonly device: Ne2kState }
  );

/** The board's row for `nic`. */
export function nicState(nic: Nic): NicState {
  const common = { mac: formatMac(nic.mac), link: true, counters: { ...nic.counters } };
  return { ...common, ...snapshotNic(nic) };
}

/** A NIC's typed device state in a board snapshot, tagged with its model. */
export type NicSnapshot =
  | { readonly model: "e1000"; readonly device: E1000State }
  | { readonly model: "virtio"; readonly device: VirtioNetState }
  | { readonly model: "rtl8139"; readonly device: Rtl8139State }
  | { readonly model: "ne2k_pci"; readonly device: Ne2kState };

/** The typed state of `nic` for a save file. */
export function snapshotNic(nic: Nic): NicSnapshot {
  if (nic instanceof E1000) return { model: "e1000", device: nic.snapshot() };
  if (nic instanceof VirtioNet) return { model: "virtio", device: nic.snapshot() };
  if (nic instanceof Rtl8139) return { model: "rtl8139", device: nic.snapshot() };
  if (nic instanceof Ne2kPci) return { model: "ne2k_pci", device: nic.snapshot() };
  throw new Error(`unknown NIC ${nic.name}`);
}

/**
 * Puts `nic` back into a saved state of the same model.
 * @throws {StateError} when the state belongs to another model or is malformed
 */
export function restoreNic(nic: Nic, s: NicSnapshot): void {
  if (nic instanceof E1000 && s?.model === "e1000") return nic.restore(s.device);
  if (nic instanceof VirtioNet && s?.model === "virtio") return nic.restore(s.device);
  if (nic instanceof Rtl8139 && s?.model === "rtl8139") return nic.restore(s.device);
  if (nic instanceof Ne2kPci && s?.model === "ne2k_pci") return nic.restore(s.device);
  throw new StateError(nic.name, `the saved NIC is a ${String(s?.model)}, not this model`);
}
