import { deepStrictEqual, match, strictEqual, throws } from "node:assert";
import { UsageError } from "./errors.ts";
import { buildProgram, parseCommandLine } from "./program.ts";
import { splitQemuList, translateQemuArgs } from "./qemu_args.ts";

const noop = () => {};
const OPTIONS = buildProgram(noop, noop).options;
const t = (...argv: string[]) => translateQemuArgs(argv, OPTIONS).argv;
const refused = (argv: string[], pattern: RegExp) =>
  throws(() => translateQemuArgs(argv, OPTIONS), (e: unknown) => {
    if (!(e instanceof UsageError)) return false;
    match(e.message, pattern);
    strictEqual(e.exitCode, 2);
    strictEqual(e.message.includes("\n"), false, "one line");
    return true;
  });

Deno.test("QEMU words with vmrun's meaning become vmrun's options", () => {
  const cases: [string[], string[]][] = [
    [["-nographic", "a.img"], ["--headless", "a.img"]],
    [["--nographic", "a.img"], ["--headless", "a.img"]],
    [["-snapshot", "a.img"], ["--snapshot", "a.img"]],
    [["-no-reboot", "a.img"], ["--no-reboot", "a.img"]],
    [["-m", "512", "a.img"], ["--memory", "512", "a.img"]],
    [["-m", "512M", "a.img"], ["--memory", "512M", "a.img"]],
    [["-m", "size=1G", "a.img"], ["--memory", "1G", "a.img"]],
    [["--m", "64", "a.img"], ["--memory", "64", "a.img"]],
    [["-smp", "1", "a.img"], ["--cpus", "1", "a.img"]],
    [["-smp", "cpus=2", "a.img"], ["--cpus", "2", "a.img"]],
    [["-smp", "sockets=1,cores=2,threads=2", "a.img"], ["--cpus", "4", "a.img"]],
    [["-smp", "2,maxcpus=2", "a.img"], ["--cpus", "2", "a.img"]],
    [["-bios", "my.bin", "a.img"], ["--firmware", "my.bin", "a.img"]],
    [["-display", "none", "a.img"], ["--headless", "a.img"]],
    [["-display", "curses", "a.img"], ["--display", "text", "a.img"]],
    [["-display", "sixel", "a.img"], ["--display", "sixel", "a.img"]],
    [["-serial", "stdio", "a.img"], ["a.img"]],
    [["-serial", "mon:stdio", "a.img"], ["a.img"]],
    [["-serial", "file:com1.log", "a.img"], ["--serial-log", "com1.log", "a.img"]],
    [["-boot", "menu=on", "a.img"], ["--boot-menu", "a.img"]],
    [["-boot", "menu=off", "a.img"], ["a.img"]],
    [["-boot", "c", "a.img"], ["a.img"]],
    [["-boot", "order=cdn,menu=on", "a.img"], ["--boot-menu", "a.img"]],
    [["-vga", "std", "a.img"], ["a.img"]],
    [["-vga", "cirrus", "a.img"], ["a.img", "--vga", "cirrus"]],
    [["-vga", "none", "a.img"], ["a.img", "--vga", "none"]],
    [["-vga", "none", "-device", "cirrus-vga", "a.img"], ["a.img", "--vga", "cirrus"]],
    [["-vga", "none", "-device", "VGA,vgamem_mb=32", "a.img"], ["--vga-memory", "32M", "a.img"]],
    [["-enable-kvm", "-accel", "kvm", "-cpu", "host", "a.img"], ["a.img"]],
    [["-cpu", "host,-xsave,popcnt=off", "a.img"], ["--cpu", "host,-xsave,popcnt=off", "a.img"]],
    [["-cpu", "max,+x2apic", "a.img"], ["--cpu", "max,+x2apic", "a.img"]],
    [["-machine", "pc,accel=kvm", "-M", "pc-i440fx-8.2", "a.img"], ["a.img"]],
    [["-machine", "type=pc,accel=kvm:tcg", "a.img"], ["a.img"]],
    [["-no-hpet", "-name", "guest", "-monitor", "none", "a.img"], ["a.img"]],
    [["-net", "none", "-nic", "none", "a.img"], ["--nic", "none", "a.img"]],
    [["-h"], ["--help"]],
    [["-help"], ["--help"]],
    [["-version"], ["--version"]],
  ];
  for (const [argv, want] of cases) deepStrictEqual(t(...argv), want, argv.join(" "));
});

Deno.test("QEMU's -nic, -netdev with a NIC -device, and -net nic/user become --nic", () => {
  deepStrictEqual(t("-nic", "user,model=virtio,hostfwd=tcp::2222-:22", "a.img"), [
    "--nic",
    "user,model=virtio,hostfwd=tcp::2222-:22",
    "a.img",
  ]);
  deepStrictEqual(
    t(
      "-netdev",
      "user,id=n0,hostfwd=udp::5555-:7,restrict=on",
      "-device",
      "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01",
      "a.img",
    ),
    ["--nic", "user,model=virtio,mac=52:54:00:00:00:01,hostfwd=udp::5555-:7,restrict=on", "a.img"],
  );
  deepStrictEqual(t("-netdev", "user,id=x", "-device", "e1000,netdev=x,romfile=", "a.img"), [
    "--nic",
    "user,model=e1000,romfile=",
    "a.img",
  ]);
  deepStrictEqual(
    t("-net", "nic,model=e1000,macaddr=52:54:00:00:00:02", "-net", "user,net=10.9.0.0/24", "a.img"),
    ["a.img", "--nic", "user,model=e1000,mac=52:54:00:00:00:02,net=10.9.0.0/24"],
  );
  deepStrictEqual(t("-net", "nic", "-net", "user", "a.img"), ["a.img", "--nic", "user"]);
});

Deno.test("QEMU disks become --disk, IDE ones in QEMU's index order", () => {
  deepStrictEqual(t("-hda", "a.img"), ["--disk", "a.img"]);
  deepStrictEqual(
    t("-cdrom", "x.iso", "-hdb", "b.img", "-m", "64", "-hda", "a.img", "-hdd", "d.img"),
    ["--disk", "a.img", "--disk", "b.img", "--disk", "x.iso", "--disk", "d.img", "--memory", "64"],
  );
  // The CD-ROM is IDE index 2; a CD image without .iso says media=cdrom.
  deepStrictEqual(t("-cdrom", "cd.bin", "-hda", "a.img"), [
    "--disk",
    "a.img",
    "--disk",
    "cd.bin,media=cdrom",
  ]);
  deepStrictEqual(t("-hda", "disk.iso"), ["--disk", "disk.iso,media=disk"]);
  // vmrun's own disks keep their place: the positional image is the first.
  deepStrictEqual(t("boot.img", "-hdb", "b.img", "--disk", "c.img"), [
    "boot.img",
    "--disk",
    "b.img",
    "--disk",
    "c.img",
  ]);
});

Deno.test("-drive maps file, if, media, index, readonly and format=raw", () => {
  deepStrictEqual(t("-drive", "file=a.img,format=raw"), ["--disk", "a.img"]);
  deepStrictEqual(t("-drive", "file=a.img,if=virtio,cache=none,aio=native"), [
    "--disk",
    "a.img,if=virtio",
  ]);
  deepStrictEqual(t("-drive", "file=a.img,if=ide,readonly=on"), ["--disk", "a.img,readonly"]);
  deepStrictEqual(t("-drive", "file=a.img,read-only=on"), ["--disk", "a.img,readonly"]);
  deepStrictEqual(t("-drive", "file=cd.raw,media=cdrom"), ["--disk", "cd.raw,media=cdrom"]);
  deepStrictEqual(t("--drive=file=a.img"), ["--disk", "a.img"]);
  // Explicit places (index, or bus*2+unit) win; unnumbered drives take the free ones.
  deepStrictEqual(
    t("-drive", "file=s.img,index=3", "-drive", "file=f.img", "-drive", "file=c.img,bus=1,unit=0"),
    ["--disk", "f.img", "--disk", "c.img", "--disk", "s.img"],
  );
  // IDE before virtio, each in order.
  deepStrictEqual(t("-drive", "file=v.img,if=virtio", "-hda", "a.img"), [
    "--disk",
    "a.img",
    "--disk",
    "v.img,if=virtio",
  ]);
  // ",," is a literal comma, and a file name with a comma cannot be a --disk.
  deepStrictEqual(splitQemuList("file=a,,b,if=ide,readonly", "file"), [
    ["file", "a,b"],
    ["if", "ide"],
    ["readonly", "on"],
  ]);
  refused(["-drive", "file=a,,b.img"], /comma/);
});

Deno.test("-drive if=none joins its -device", () => {
  deepStrictEqual(
    t("-drive", "if=none,id=d0,file=a.img", "-device", "virtio-blk-pci,drive=d0"),
    ["--disk", "a.img,if=virtio"],
  );
  deepStrictEqual(
    t(
      "-drive",
      "if=none,id=cd,file=x.iso",
      "-device",
      "ide-cd,drive=cd,bus=ide.1,unit=1",
      "-drive",
      "if=none,id=hd,file=a.img",
      "-device",
      "ide-hd,drive=hd",
    ),
    ["--disk", "a.img", "--disk", "x.iso"],
  );
  refused(["-device", "virtio-blk-pci,drive=nope"], /drive=<id>/);
  refused(["-drive", "if=none,file=a.img"], /id=/);
});

Deno.test("snapshot=on maps to --snapshot only when no writable disk is left out", () => {
  deepStrictEqual(t("-drive", "file=a.img,snapshot=on"), ["--disk", "a.img", "--snapshot"]);
  deepStrictEqual(t("-drive", "file=a.img,snapshot=on", "-cdrom", "x.iso"), [
    "--disk",
    "a.img",
    "--disk",
    "x.iso",
    "--snapshot",
  ]);
  deepStrictEqual(t("-snapshot", "-drive", "file=a.img,snapshot=on", "-hdb", "b.img"), [
    "--snapshot",
    "--disk",
    "a.img",
    "--disk",
    "b.img",
  ]);
  refused(["-drive", "file=a.img,snapshot=on", "-hdb", "b.img"], /add -snapshot/);
  refused(["data.img", "-drive", "file=a.img,snapshot=on"], /add -snapshot/);
});

Deno.test("-boot order: CD first only when there is no hard disk to skip", () => {
  deepStrictEqual(t("-boot", "d", "-cdrom", "x.iso"), ["--disk", "x.iso"]);
  deepStrictEqual(t("-boot", "order=dc", "x.iso"), ["x.iso"]);
  refused(["-boot", "d", "-hda", "a.img", "-cdrom", "x.iso"], /hard disks before CD-ROMs/);
  refused(["-boot", "once=d", "a.img", "--disk", "x.iso"], /hard disks before CD-ROMs/);
  refused(["-boot", "splash-time=5", "a.img"], /'splash-time'/);
  refused(["-boot", "order=z", "a.img"], /letters/);
});

Deno.test("isa-debug-exit at 0xf4 is accepted with a note on the exit status", () => {
  const r = translateQemuArgs(
    ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "a.img"],
    OPTIONS,
  );
  deepStrictEqual(r.argv, ["a.img"]);
  strictEqual(r.notes.length, 1);
  match(r.notes[0], /\(value << 1\) \| 1/);
  refused(["-device", "isa-debug-exit", "a.img"], /iobase=0xf4/);
  refused(["-device", "isa-debug-exit,iobase=0x501", "a.img"], /iobase=0xf4/);
});

Deno.test("-kernel, -initrd and -append become --kernel, --initrd and --append", () => {
  const r = translateQemuArgs(
    ["-kernel", "bzImage", "-initrd", "initrd.img", "-append", "console=ttyS0 quiet"],
    OPTIONS,
  );
  deepStrictEqual(r.argv, [
    "--kernel",
    "bzImage",
    "--initrd",
    "initrd.img",
    "--append",
    "console=ttyS0 quiet",
  ]);
});

Deno.test("QEMU words with another meaning are refused with vmrun's option", () => {
  const cases: [string[], RegExp][] = [
    [["-net", "nic"], /needs -net user/],
    [["-net", "tap"], /user-mode \(libslirp\) only/],
    [["-netdev", "tap,id=n0"], /user-mode \(libslirp\) only/],
    [["-netdev", "user"], /needs id=<id>/],
    [["-netdev", "user,id=n0"], /no -device uses it/],
    [["-device", "e1000,netdev=n9"], /needs netdev=<id> of a -netdev user/],
    [["-netdev", "user,id=n0", "-device", "e1000,netdev=n0,bus=pci.0"], /'bus'/],
    [["-monitor", "stdio"], /--control/],
    [["-qmp", "unix:/tmp/q,server"], /--control/],
    [["-S"], /vmrun ctl <socket> pause/],
    [["-s"], /GDB/],
    [["-gdb", "tcp::1234"], /GDB/],
    [["-serial", "pty"], /--serial-log/],
    [["-serial", "none"], /--serial-log/],
    [["-serial", "stdio", "-serial", "file:com2.log"], /one serial port/],
    [["-display", "gtk"], /no window.*--display auto\|text/],
    [["-display", "sdl,gl=on"], /--headless/],
    [["-vga", "vmware"], /--vga std\|cirrus\|virtio\|none/],
    [["-vga", "cirrus", "-device", "VGA"], /one display adapter/],
    [["-device", "VGA", "-device", "cirrus-vga"], /one display adapter/],
    [["-accel", "tcg"], /KVM only/],
    [["-machine", "q35"], /pc \(i440FX/],
    [["-machine", "pc,usb=on"], /'usb'/],
    [["-cpu", "qemu64"], /-cpu host/],
    [["-cpu", "Skylake-Client,-xsave"], /-cpu host/],
    [["-m", "1G,slots=2,maxmem=4G"], /hotplug/],
    [["-smp", "2,maxcpus=4"], /hotplug.*--cpus 2/],
    [["-smp", "two"], /whole number/],
    [["-bios"], /-bios needs a value/],
    [["-nographic=1"], /unknown option/],
    [["--nographic=1"], /takes no value/],
    [["-drive", "file=a.qcow2,format=qcow2"], /raw images only/],
    [["-drive", "file=a.img,if=scsi"], /if=ide or if=virtio/],
    [["-drive", "file=OVMF.fd,if=pflash"], /--firmware/],
    [["-drive", "if=ide,media=cdrom"], /empty drive/],
    [["-drive", "file=a.img,werror=stop"], /unknown option 'werror'/],
    [["-drive", "file=a.img,index=4"], /places 0 to 3/],
    [["-hdc", "c.img", "-cdrom", "x.iso"], /place 2 is taken by -hdc c.img/],
    [["-device", "pcnet"], /unknown device 'pcnet'/],
    [["-L", "/usr/share/qemu"], /--firmware/],
    [["-no-shutdown"], /powers off/],
    [["-nodefaults"], /fixed/],
    [["-foo"], /^unknown option '-foo' \(vmrun's options use two dashes: see vmrun --help\)$/],
    [["-mem-prealloc"], /unknown option '-mem-prealloc'/],
    [["-Vx"], /unknown option '-Vx'/],
  ];
  for (const [argv, pattern] of cases) refused(argv, pattern);
});

Deno.test("vmrun's own words and values pass untouched", () => {
  const same = [
    ["--memory", "64M", "--cpus", "1", "a.img"],
    ["-m512M", "a.img"],
    ["-V"],
    ["--send", "-snapshot", "--expect", "-hda", "a.img"],
    ["--send=-nographic", "a.img"],
    ["--display", "none", "a.img"],
    ["--snapshot", "--no-reboot", "a.img"],
    ["a.img", "--", "-hda"],
    ["-", "a.img"],
  ];
  for (const argv of same) deepStrictEqual(t(...argv), argv, argv.join(" "));
});

Deno.test("parseCommandLine understands QEMU words", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const img = `${dir}/boot.img`;
    const sector = new Uint8Array(1024);
    sector.set([0x55, 0xaa], 510);
    Deno.writeFileSync(img, sector);
    Deno.writeFileSync(`${dir}/b.img`, sector);
    const notes: string[] = [];
    const req = parseCommandLine(
      [
        "--firmware=none",
        "-m",
        "64",
        "-nographic",
        "-snapshot",
        "-hdb",
        `${dir}/b.img`,
        "-hda",
        img,
        "-no-reboot",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-netdev",
        "user,id=n0,hostfwd=tcp::0-:22",
        "-device",
        "rtl8139,netdev=n0",
        "-nic",
        "user,model=virtio,net=10.9.9.0/24",
      ],
      { out: noop, err: (s) => notes.push(s), hostMemory: 2 ** 34 },
    );
    strictEqual(req.config.memoryBytes, 64 * 2 ** 20);
    strictEqual(req.headless, true);
    strictEqual(req.config.snapshot, true);
    strictEqual(req.config.noReboot, true);
    deepStrictEqual(req.config.disks.map((d) => d.path), [img, `${dir}/b.img`]);
    strictEqual(req.image, img);
    deepStrictEqual(req.config.nics?.map((n) => [n.model, n.network, n.hostForwards.length]), [
      ["rtl8139", "10.0.2.0", 1],
      ["virtio", "10.9.9.0", 0],
    ]);
    deepStrictEqual(notes.length, 1);
    match(notes[0], /^vmrun: note: isa-debug-exit: /);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
