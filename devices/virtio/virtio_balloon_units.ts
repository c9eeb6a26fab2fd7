/**
 * virtio-balloon's units, apart from the device so the host's side (the
 * balloon target, the `--device` help) reads them without loading it.
 *
 * @module
 */

/** Bytes of a balloon page: PFNs count in these whatever the host's page size. */
export const VIRTIO_BALLOON_PAGE_SIZE = 4096;
/** Stats requested every this many ns unless told otherwise. */
export const DEFAULT_STATS_INTERVAL_NS = 2_000_000_000;
