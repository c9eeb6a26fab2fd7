/**
 * The NIC rows of the board state: each NIC's model, MAC, link and traffic
 * counters beside its typed device state, for the devices pane, the API and
 * save files.
 *
 * @module
 */

import type { E1000, E1000State } from "./e1000.ts";
import { formatMac, type Nic, type NicCounters } from "./nic.ts";
import type { VirtioNet, VirtioNetState } from "./virtio_net.ts";
import { StateError } from "../types.ts";
import type { Rtl8139, Rtl8139State } from "./rtl8139.ts";
import type { Ne2kPci, Ne2kState } from "./ne2k_pci.ts";

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
  // Each model's class has its own name (checked by name, so the models' code need not be loaded).
  const m = nic as AnyNic;
  switch (m.name) {
    case "e1000":
      return { model: "e1000", device: m.snapshot() };
    case "virtio-net":
      return { model: "virtio", device: m.snapshot() };
    case "rtl8139":
      return { model: "rtl8139", device: m.snapshot() };
    case "ne2k_pci":
      return { model: "ne2k_pci", device: m.snapshot() };
  }
  throw new Error(`unknown NIC ${nic.name}`);
}

/** Every NIC model, told apart by its name. */
type AnyNic = E1000 | VirtioNet | Rtl8139 | Ne2kPci;

/**
 * Puts `nic` back into a saved state of the same model.
 * @throws {StateError} when the state belongs to another model or is malformed
 */
export function restoreNic(nic: Nic, s: NicSnapshot): void {
  const m = nic as AnyNic;
  if (m.name === "e1000" && s?.model === "e1000") return m.restore(s.device);
  if (m.name === "virtio-net" && s?.model === "virtio") return m.restore(s.device);
  if (m.name === "rtl8139" && s?.model === "rtl8139") return m.restore(s.device);
  if (m.name === "ne2k_pci" && s?.model === "ne2k_pci") return m.restore(s.device);
  throw new StateError(nic.name, `the saved NIC is a ${String(s?.model)}, not this model`);
}
