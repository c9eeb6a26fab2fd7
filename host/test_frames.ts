/**
 * Ethernet, ARP, IPv4, UDP, ICMP and DHCP frames for tests, built and parsed
 * by hand so tests can talk to slirp without a guest.
 *
 * @module
 */

/** The MAC tests use for the guest (QEMU's default first NIC). */
export const GUEST_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

/** Dotted IPv4 to bytes. */
export function ip(dotted: string): number[] {
  return dotted.split(".").map(Number);
}

/** The Internet checksum of `bytes`. */
export function inetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(dst: number[], src: number[], type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(Math.max(60, 14 + payload.length));
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

/** An ARP request from `senderIp` (at {@link GUEST_MAC}) for `targetIp`. */
export function arpRequest(senderIp: string, targetIp: string): Uint8Array {
  const a = new Uint8Array(28);
  a.set([0, 1, 8, 0, 6, 4, 0, 1], 0);
  a.set(GUEST_MAC, 8);
  a.set(ip(senderIp), 14);
  a.set(ip(targetIp), 24);
  return ethernet(BROADCAST, GUEST_MAC, 0x0806, a);
}

/** An IPv4 packet with a correct header checksum. */
export function ipv4(src: string, dst: string, proto: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  p[2] = p.length >> 8;
  p[3] = p.length & 0xff;
  p[8] = 64;
  p[9] = proto;
  p.set(ip(src), 12);
  p.set(ip(dst), 16);
  const sum = inetChecksum(p.subarray(0, 20));
  p[10] = sum >> 8;
  p[11] = sum & 0xff;
  p.set(payload, 20);
  return p;
}

/** A UDP datagram (checksum 0: none). */
export function udp(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + payload.length);
  const v = new DataView(u.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, u.length);
  u.set(payload, 8);
  return u;
}

/** A DHCPDISCOVER from {@link GUEST_MAC}, broadcast. */
export function dhcpDiscover(xid: number): Uint8Array {
  const b = new Uint8Array(240 + 4);
  const v = new DataView(b.buffer);
  b[0] = 1; // BOOTREQUEST
  b[1] = 1;
  b[2] = 6;
  v.setUint32(4, xid);
  b.set(GUEST_MAC, 28);
  v.setUint32(236, 0x63825363);
  b.set([53, 1, 1, 255], 240);
  const packet = ipv4("0.0.0.0", "255.255.255.255", 17, udp(68, 67, b));
  return ethernet(BROADCAST, GUEST_MAC, 0x0800, packet);
}

/** An ICMP echo request from `src` to `dst` through the gateway MAC `gwMac`. */
export function icmpEcho(src: string, dst: string, gwMac: number[], id: number, seq: number) {
  const m = new Uint8Array(8 + 16);
  m[0] = 8;
  m[4] = id >> 8;
  m[5] = id & 0xff;
  m[6] = seq >> 8;
  m[7] = seq & 0xff;
  for (let i = 8; i < m.length; i++) m[i] = i;
  const sum = inetChecksum(m);
  m[2] = sum >> 8;
  m[3] = sum & 0xff;
  return ethernet(gwMac, GUEST_MAC, 0x0800, ipv4(src, dst, 1, m));
}

/** A parsed frame, as far as tests look. */
export interface ParsedFrame {
  readonly dst: number[];
  readonly src: number[];
  readonly type: number;
  /** ARP: opcode, sender MAC and IP. */
  readonly arp?: { op: number; senderMac: number[]; senderIp: string; targetIp: string };
  /** IPv4: addresses and protocol. */
  readonly ipv4?: { src: string; dst: string; proto: number; payload: Uint8Array };
  /** UDP inside IPv4. */
  readonly udp?: { srcPort: number; dstPort: number; payload: Uint8Array };
  /** DHCP inside UDP: message type, offered address, server identifier. */
  readonly dhcp?: { type: number; yiaddr: string; server: string | null };
  /** ICMP inside IPv4. */
  readonly icmp?: { type: number; id: number; seq: number };
}

/** Parses what tests look at in a frame. */
export function parseFrame(f: Uint8Array): ParsedFrame {
  const dotted = (b: Uint8Array) => [...b].join(".");
  const type = (f[12] << 8) | f[13];
  const base = { dst: [...f.subarray(0, 6)], src: [...f.subarray(6, 12)], type };
  if (type === 0x0806) {
    return {
      ...base,
      arp: {
        op: (f[20] << 8) | f[21],
        senderMac: [...f.subarray(22, 28)],
        senderIp: dotted(f.subarray(28, 32)),
        targetIp: dotted(f.subarray(38, 42)),
      },
    };
  }
  if (type !== 0x0800) return base;
  const ihl = (f[14] & 0xf) * 4;
  const total = (f[16] << 8) | f[17];
  const payload = f.subarray(14 + ihl, 14 + total);
  const ipv4 = {
    src: dotted(f.subarray(26, 30)),
    dst: dotted(f.subarray(30, 34)),
    proto: f[23],
    payload,
  };
  if (ipv4.proto === 1) {
    return {
      ...base,
      ipv4,
      icmp: {
        type: payload[0],
        id: (payload[4] << 8) | payload[5],
        seq: (payload[6] << 8) | payload[7],
      },
    };
  }
  if (ipv4.proto !== 17) return { ...base, ipv4 };
  const u = {
    srcPort: (payload[0] << 8) | payload[1],
    dstPort: (payload[2] << 8) | payload[3],
    payload: payload.subarray(8, (payload[4] << 8) | payload[5]),
  };
  if (u.srcPort !== 67) return { ...base, ipv4, udp: u };
  const d = u.payload;
  let msgType = 0;
  let server: string | null = null;
  for (let i = 240; i < d.length && d[i] !== 255;) {
    if (d[i] === 0) {
      i++;
      continue;
    }
    if (d[i] === 53) msgType = d[i + 2];
    if (d[i] === 54) server = dotted(d.subarray(i + 2, i + 6));
    i += 2 + d[i + 1];
  }
  return {
    ...base,
    ipv4,
    udp: u,
    dhcp: { type: msgType, yiaddr: dotted(d.subarray(16, 20)), server },
  };
}
