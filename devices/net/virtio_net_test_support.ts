/**
 * Test support for virtio-net: a driver's legacy bring-up, shared by the
 * device's tests and those of its receive and transmit leases.
 *
 * @module
 */

import { VIRTIO_LEGACY as L, VIRTIO_STATUS_DRIVER_OK } from "../virtio/virtio_pci.ts";
import { DriverRing } from "../virtio/test_support.ts";
import type { VirtioNet } from "./virtio_net.ts";
import type { NicRig } from "./test_support.ts";

/** ACKNOWLEDGE | DRIVER. */
const ACK_DRIVER = 3;

/**
 * Resets the device, enables PCI I/O and bus mastering, accepts `features`
 * (of those offered), places RX at PFN 0x10 and TX at PFN 0x30 and sets
 * DRIVER_OK, as a legacy driver does; the driver's view of both rings.
 */
export function virtioNetLegacyUp(
  s: NicRig<VirtioNet>,
  features: bigint,
): { rx: DriverRing; tx: DriverRing } {
  const io = s.nic.legacyIo;
  s.nic.config.write(0x04, 2, 0x0007);
  io.write(L.status, 1, 0);
  io.write(L.status, 1, ACK_DRIVER);
  io.write(L.guestFeatures, 4, io.read(L.hostFeatures, 4) & Number(features));
  const rings = [0x10, 0x30].map((pfn, q) => {
    io.write(L.queueSelect, 2, q);
    const size = io.read(L.queueSize, 2);
    io.write(L.queuePfn, 4, pfn);
    return DriverRing.legacy(s.memory, size, pfn);
  });
  io.write(L.status, 1, ACK_DRIVER | VIRTIO_STATUS_DRIVER_OK);
  return { rx: rings[0], tx: rings[1] };
}
