import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { ConfigError } from "./config_error.ts";
import { defaultMac, nicConfig, parseHostForward, parseMac, parseNicSpec } from "./nic_spec.ts";

Deno.test("parseNicSpec reads QEMU's -nic user options, hostfwd repeatable", () => {
  deepStrictEqual(
    parseNicSpec(
      "user,model=virtio,mac=52:54:00:aa:bb:cc,hostfwd=tcp::2222-:22," +
        "hostfwd=udp:127.0.0.1:5555-:5555,restrict=on,net=10.0.3.0/24,dns=10.0.3.9," +
        "tftp=/srv,bootfile=pxe.0,pcap=out.pcap,romfile=",
    ),
    {
      model: "virtio",
      mac: "52:54:00:aa:bb:cc",
      hostfwd: ["tcp::2222-:22", "udp:127.0.0.1:5555-:5555"],
      restrict: true,
      net: "10.0.3.0/24",
      dns: "10.0.3.9",
      tftp: "/srv",
      bootfile: "pxe.0",
      pcap: "out.pcap",
      romfile: "",
    },
  );
  deepStrictEqual(parseNicSpec("user"), {});
  strictEqual(parseNicSpec("none"), null);
  deepStrictEqual(parseNicSpec("user,restrict=off"), { restrict: false });
});

Deno.test("parseNicSpec refuses other network types and unknown keys in one line", () => {
  throws(() => parseNicSpec("tap,ifname=tap0"), /only user-mode networking/);
  throws(() => parseNicSpec("bridge"), ConfigError);
  throws(() => parseNicSpec("user,speed=10"), /unknown option 'speed'/);
  throws(() => parseNicSpec("user,restrict=maybe"), /restrict must be on or off/);
  throws(() => parseNicSpec("none,model=e1000"), /only user-mode/);
});

Deno.test("nicConfig fills QEMU's defaults: e1000, 10.0.2.0/24, .2 host, .3 DNS, .15 DHCP", () => {
  deepStrictEqual(nicConfig({}, 0), {
    model: "e1000",
    mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
    network: "10.0.2.0",
    prefixLength: 24,
    host: "10.0.2.2",
    dhcpStart: "10.0.2.15",
    dns: "10.0.2.3",
    restrict: false,
    hostForwards: [],
    tftp: null,
    bootfile: null,
    pcap: null,
    romfile: null,
  });
  const c = nicConfig({ net: "192.168.76.9/24", model: "virtio" }, 1);
  strictEqual(c.network, "192.168.76.0");
  strictEqual(c.host, "192.168.76.2");
  strictEqual(c.dhcpStart, "192.168.76.15");
  strictEqual(c.dns, "192.168.76.3");
  deepStrictEqual(c.mac, [0x52, 0x54, 0x00, 0x12, 0x34, 0x57]);
  strictEqual(nicConfig({ net: "10.1.0.0" }, 0).prefixLength, 24);
});

Deno.test("nicConfig refuses unknown models, bad MACs, nets and keys", () => {
  throws(() => nicConfig({ model: "pcnet" }, 0), /unknown model 'pcnet'/);
  strictEqual(nicConfig({ model: "ne2k_pci" }, 0).model, "ne2k_pci");
  throws(() => nicConfig({ mac: "52:54:00:12:34" }, 0), /not six hex bytes/);
  throws(() => nicConfig({ mac: "01:00:5e:00:00:01" }, 0), /multicast/);
  throws(() => nicConfig({ net: "10.0.2.0/33" }, 0), /IPv4 network/);
  throws(() => nicConfig({ net: "10.0.256.0/24" }, 0), /IPv4 network/);
  throws(() => nicConfig({ dns: "ten" }, 0), /dns 'ten'/);
  throws(() => nicConfig({ pcap: "" }, 0), /pcap= names no file/);
  throws(() => nicConfig({ speed: 10 } as never, 0), /unknown option 'speed'/);
  throws(() => nicConfig({ hostfwd: [7] } as never, 0), /hostfwd must be/);
});

Deno.test("parseHostForward reads QEMU's hostfwd forms", () => {
  deepStrictEqual(parseHostForward("tcp::2222-:22"), {
    protocol: "tcp",
    hostAddress: "",
    hostPort: 2222,
    guestAddress: "",
    guestPort: 22,
  });
  deepStrictEqual(parseHostForward("udp:127.0.0.1:5555-10.0.2.15:7"), {
    protocol: "udp",
    hostAddress: "127.0.0.1",
    hostPort: 5555,
    guestAddress: "10.0.2.15",
    guestPort: 7,
  });
  strictEqual(parseHostForward(":127.0.0.1:0-:80").protocol, "tcp");
  for (const bad of ["tcp:2222-:22", "sctp::1-:2", "tcp::70000-:22", "tcp::22-:0", "tcp:x:1-:2"]) {
    throws(() => parseHostForward(bad), /hostfwd '.*' /, bad);
  }
});

Deno.test("parseMac and defaultMac", () => {
  deepStrictEqual(parseMac("52-54-00-AB-cd-01"), [0x52, 0x54, 0, 0xab, 0xcd, 1]);
  deepStrictEqual(defaultMac(2), [0x52, 0x54, 0x00, 0x12, 0x34, 0x58]);
});
