import dgram from "node:dgram";
import { deepStrictEqual, match, notStrictEqual, ok, strictEqual, throws } from "node:assert";
import { EventFd, POLLFD, POLLFD_SIZE, PollSet } from "./posix.ts";
import {
  HostForwardError,
  inAddr,
  openLibslirp,
  Slirp,
  SLIRP_CB,
  SLIRP_CONFIG,
  type SlirpOptions,
  SlirpUnavailableError,
  slirpVersion,
} from "./slirp.ts";
import { arpRequest, dhcpDiscover, icmpEcho, parseFrame } from "./test_frames.ts";

/** QEMU's -netdev user defaults. */
const OPTIONS: SlirpOptions = {
  network: "10.0.2.0",
  netmask: "255.255.255.0",
  host: "10.0.2.2",
  dhcpStart: "10.0.2.15",
  dns: "10.0.2.3",
  restricted: false,
  tftpPath: null,
  bootfile: null,
  hostname: null,
};

Deno.test("SlirpConfig, SlirpCb and struct pollfd layouts match <slirp/libslirp.h> and <poll.h>", async () => {
  const lines = [
    "#include <stddef.h>",
    "#include <stdio.h>",
    "#include <poll.h>",
    "#include <slirp/libslirp.h>",
    "int main(void) {",
  ];
  const expected = new Map<string, number>();
  const print = (key: string, expr: string, want: number) => {
    expected.set(key, want);
    lines.push(`  printf("%s %llu\\n", "${key}", (unsigned long long)(${expr}));`);
  };
  for (const [struct, layout] of [["SlirpConfig", SLIRP_CONFIG], ["SlirpCb", SLIRP_CB]] as const) {
    print(`sizeof ${struct}`, `sizeof(${struct})`, layout.size);
    for (const [field, off] of Object.entries(layout.fields)) {
      print(`offsetof ${struct} ${field}`, `offsetof(${struct}, ${field})`, off);
    }
  }
  print("sizeof pollfd", "sizeof(struct pollfd)", POLLFD_SIZE);
  for (const [field, off] of Object.entries(POLLFD)) {
    print(`offsetof pollfd ${field}`, `offsetof(struct pollfd, ${field})`, off);
  }
  print("SLIRP_CONFIG_VERSION_MAX", "SLIRP_CONFIG_VERSION_MAX", 4);
  lines.push("  return 0;", "}", "");
  const dir = await Deno.makeTempDir({ prefix: "vmrun_slirp_" });
  try {
    await Deno.writeTextFile(`${dir}/l.c`, lines.join("\n"));
    const cc = await new Deno.Command("cc", {
      args: ["-Wall", "-Werror", "-o", `${dir}/l`, `${dir}/l.c`],
      stderr: "piped",
    }).output();
    strictEqual(cc.success, true, new TextDecoder().decode(cc.stderr));
    const out = await new Deno.Command(`${dir}/l`, { stdout: "piped" }).output();
    const actual = new Map<string, number>();
    for (const line of new TextDecoder().decode(out.stdout).trim().split("\n")) {
      const at = line.lastIndexOf(" ");
      actual.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    deepStrictEqual(Object.fromEntries(actual), Object.fromEntries(expected));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("libslirp is Debian's 4.7 or later", () => {
  ok(/^\d+\.\d+\.\d+/.test(slirpVersion()), slirpVersion());
});

Deno.test("inAddr gives network byte order in memory", () => {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, inAddr("10.0.2.15"), true);
  deepStrictEqual([...new Uint8Array(v.buffer)], [10, 0, 2, 15]);
});

Deno.test("a slirp network answers ARP for 10.0.2.2, offers 10.0.2.15 by DHCP and answers a ping", () => {
  const frames: Uint8Array[] = [];
  const net = new Slirp(OPTIONS, { sendPacket: (f) => frames.push(f.slice()) });
  try {
    net.input(arpRequest("10.0.2.15", "10.0.2.2"));
    const arp = frames.map(parseFrame).find((f) => f.arp?.op === 2);
    ok(arp, `no ARP reply among ${frames.length} frames`);
    strictEqual(arp.arp!.senderIp, "10.0.2.2");
    deepStrictEqual(arp.arp!.senderMac.slice(0, 2), [0x52, 0x55]);
    deepStrictEqual(arp.dst, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

    frames.length = 0;
    net.input(dhcpDiscover(0x1234abcd));
    const set = new PollSet();
    net.fillPoll(set, 0);
    set.wait(0);
    net.afterPoll();
    const offer = frames.map(parseFrame).find((f) => f.dhcp);
    ok(offer, `no DHCP reply among ${frames.length} frames`);
    strictEqual(offer.dhcp!.type, 2, "DHCPOFFER");
    strictEqual(offer.dhcp!.yiaddr, "10.0.2.15");
    strictEqual(offer.dhcp!.server, "10.0.2.2");

    frames.length = 0;
    net.input(icmpEcho("10.0.2.15", "10.0.2.2", arp.arp!.senderMac, 7, 1));
    const reply = frames.map(parseFrame).find((f) => f.icmp);
    ok(reply, `no ICMP reply among ${frames.length} frames`);
    deepStrictEqual(reply.icmp, { type: 0, id: 7, seq: 1 });
    strictEqual(reply.ipv4!.src, "10.0.2.2");
  } finally {
    net.close();
  }
});

Deno.test("a UDP host forward binds its port and a busy port is refused", async () => {
  const frames: Uint8Array[] = [];
  const net = new Slirp(OPTIONS, { sendPacket: (f) => frames.push(f.slice()) });
  const busy = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => busy.bind(0, "127.0.0.1", resolve));
  try {
    const port = busy.address().port;
    let refused = false;
    try {
      net.addHostForward({
        protocol: "udp",
        hostAddress: "127.0.0.1",
        hostPort: port,
        guestAddress: "",
        guestPort: 7,
      });
    } catch (e) {
      ok(e instanceof HostForwardError);
      strictEqual(
        e.message,
        `hostfwd udp:127.0.0.1:${port}-:7: host port udp 127.0.0.1:${port} is already in use`,
      );
      refused = true;
    }
    ok(refused, "a port in use must be refused");

    const free = await freeUdpPort();
    const bound = net.addHostForward({
      protocol: "udp",
      hostAddress: "127.0.0.1",
      hostPort: free,
      guestAddress: "",
      guestPort: 7,
    });
    strictEqual(bound, free);
    // The guest needs an ARP entry for slirp to send it anything.
    net.input(arpRequest("10.0.2.15", "10.0.2.2"));
    frames.length = 0;
    await new Promise((resolve) => busy.send("ping", free, "127.0.0.1", resolve));
    const set = new PollSet();
    for (let i = 0; i < 50 && !frames.some((f) => parseFrame(f).udp); i++) {
      set.clear();
      net.fillPoll(set, 20);
      set.wait(20);
      net.afterPoll();
    }
    const got = frames.map(parseFrame).find((f) => f.udp);
    ok(got, "the datagram reached the guest side");
    strictEqual(got.udp!.dstPort, 7);
    strictEqual(got.ipv4!.dst, "10.0.2.15");
    strictEqual(new TextDecoder().decode(got.udp!.payload), "ping");
    ok(net.removeHostForward("udp", "127.0.0.1", free));
  } finally {
    busy.close();
    net.close();
  }
});

Deno.test("host port 0: the port the kernel chose is returned, held, and removable", async () => {
  const net = new Slirp(OPTIONS, { sendPacket: () => {} });
  try {
    const fwd = (protocol: "tcp" | "udp") => ({
      protocol,
      hostAddress: "127.0.0.1",
      hostPort: 0,
      guestAddress: "",
      guestPort: 22,
    });
    const tcp = net.addHostForward(fwd("tcp"));
    const tcp2 = net.addHostForward(fwd("tcp"));
    const udp = net.addHostForward(fwd("udp"));
    ok(tcp > 0 && tcp2 > 0 && udp > 0, `${tcp} ${tcp2} ${udp}`);
    notStrictEqual(tcp, tcp2);
    // The ports are really held: binding them again fails.
    throws(() => Deno.listen({ hostname: "127.0.0.1", port: tcp }), Deno.errors.AddrInUse);
    const other = dgram.createSocket("udp4");
    const err = await new Promise<unknown>((resolve) => {
      other.once("error", resolve);
      other.bind(udp, "127.0.0.1", () => resolve(null));
    });
    other.close();
    match(String((err as Error)?.message), /EADDRINUSE/);
    // A connection to the TCP port is accepted by slirp (its listening socket).
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp });
    conn.close();
    ok(net.removeHostForward("tcp", "127.0.0.1", tcp));
    ok(!net.removeHostForward("tcp", "127.0.0.1", tcp), "removed once");
    Deno.listen({ hostname: "127.0.0.1", port: tcp }).close();
    ok(net.removeHostForward("udp", "127.0.0.1", udp));
  } finally {
    net.close();
  }
});

/** A UDP port that was free a moment ago. */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

Deno.test("an eventfd wakes a poll", () => {
  const ev = EventFd.create();
  try {
    const set = new PollSet();
    set.add(ev.fd, 1);
    strictEqual(set.wait(0), 0);
    ev.signal();
    strictEqual(set.wait(1000), 1);
    ev.drain();
    strictEqual(set.wait(0), 0);
  } finally {
    ev.close();
  }
});

Deno.test("a missing libslirp is one line naming the Debian package", () => {
  throws(() => openLibslirp("libslirp-not-here.so.0"), (e: unknown) => {
    ok(e instanceof SlirpUnavailableError);
    match(
      e.message,
      /^user-mode networking needs libslirp \(libslirp-not-here\.so\.0\): install Debian's libslirp0/,
    );
    ok(!e.message.includes("\n"), "one line");
    return true;
  });
});
