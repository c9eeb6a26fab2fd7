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

/** A NIC's state as the board reports it. */
export type NicState =
  & { readonly mac: string; readonly link: boolean; readonly counters: NicCounters }
  & (
    | { readonly model: "e1000"; readonly device: E1000State }
    | { readonly model: "virtio"; readonly device: VirtioNetState }
  );

/** The board's row for `nic`. */
export function nicState(nic: Nic): NicState {
  const common = { mac: formatMac(nic.mac), link: true, counters: { ...nic.counters } };
  if (nic instanceof E1000) return { ...common, model: "e1000", device: nic.snapshot() };
  if (nic instanceof VirtioNet) return { ...common, model: "virtio", device: nic.snapshot() };
  throw new Error(`unknown NIC ${nic.name}`);
}
