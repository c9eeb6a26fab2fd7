import { deepStrictEqual, throws } from "node:assert";
import { parseDiskSpec } from "./disk_spec.ts";

Deno.test("a bare path is a writable IDE disk; .iso is an IDE CD-ROM", () => {
  deepStrictEqual(parseDiskSpec("a.img"), {
    path: "a.img",
    interface: "ide",
    media: "disk",
    readonly: false,
  });
  deepStrictEqual(parseDiskSpec("b.ISO"), {
    path: "b.ISO",
    interface: "ide",
    media: "cdrom",
    readonly: true,
  });
});

Deno.test("options select the interface, media and read-only", () => {
  deepStrictEqual(parseDiskSpec("a.img,if=virtio,readonly"), {
    path: "a.img",
    interface: "virtio",
    media: "disk",
    readonly: true,
  });
  deepStrictEqual(parseDiskSpec("a.raw,media=cdrom"), {
    path: "a.raw",
    interface: "ide",
    media: "cdrom",
    readonly: true,
  });
});

Deno.test("nonsense options are refused with the accepted ones named", () => {
  throws(() => parseDiskSpec("a.img,if=scsi"), /unknown option 'if=scsi'.*if=ide\|virtio/);
  throws(() => parseDiskSpec(",if=ide"), /names no file/);
  throws(() => parseDiskSpec("x.iso,if=virtio"), /CD-ROMs attach to IDE only/);
});
