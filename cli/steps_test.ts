import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { UsageError } from "./errors.ts";
import { parseCommandLine } from "./program.ts";
import { unescapeText } from "../api/steps.ts";
import { isScripted } from "./steps.ts";

const io = { out: () => {}, err: () => {}, hostMemory: 2 ** 34 };
const parse = (...args: string[]) =>
  parseCommandLine(["--firmware", "none", fixture("hello"), ...args], io);
const order = (...args: string[]) => parse(...args).script.steps.map((s) => `${s.kind}:${s.arg}`);

Deno.test("steps keep their command-line order across options", () => {
  deepStrictEqual(
    order(
      "--expect",
      "login:",
      "--send",
      "root\\n",
      "--type=ls\\n",
      "--expect-screen",
      "\\$ ",
      "--key",
      "Ctrl+Alt+Delete",
      "--expect",
      "bye",
      "--screenshot",
      "end.png",
    ),
    [
      "expect:login:",
      "send:root\\n",
      "type:ls\\n",
      "expect-screen:\\$ ",
      "key:Ctrl+Alt+Delete",
      "expect:bye",
      "screenshot:end.png",
    ],
  );
});

Deno.test("values of other options are not mistaken for steps", () => {
  deepStrictEqual(
    order("-m", "64M", "--send", "--expect", "--serial-log", "--type", "--expect", "x", "--"),
    ["send:--expect", "expect:x"],
  );
  const r = parse(
    "--memory=64M",
    "--exit-on",
    "--send",
    "--fail-on",
    "panic",
    "--step-timeout",
    "2.5",
  );
  deepStrictEqual(r.script.steps, []);
  deepStrictEqual(r.script.exitOn, [/--send/]);
  deepStrictEqual(r.script.failOn, [/panic/]);
  strictEqual(r.script.stepTimeout, 2.5);
  strictEqual(r.config.memoryBytes, 64 << 20);
});

Deno.test("steps arrive validated: patterns, bytes, text", () => {
  const [expect, send, type] = parse("--expect", "a+b", "--send", "\\e[1m\\x00é", "--type", "x\\t")
    .script.steps;
  deepStrictEqual(expect.kind === "expect" && expect.pattern, /a+b/);
  deepStrictEqual(send.kind === "send" && [...send.bytes], [0x1b, 0x5b, 0x31, 0x6d, 0, 0xc3, 0xa9]);
  strictEqual(type.kind === "type" && type.text, "x\t");
});

Deno.test("script options default to nothing; --no-reboot and --control reach the request", () => {
  const plain = parse();
  deepStrictEqual(plain.script, {
    steps: [],
    stepTimeout: null,
    exitOn: [],
    failOn: [],
    screenshotOnFail: null,
    report: null,
  });
  strictEqual(plain.config.noReboot, false);
  strictEqual(plain.control, null);
  const r = parse("--no-reboot", "--control", "/tmp/x.sock", "--report", "r.json");
  strictEqual(r.config.noReboot, true);
  strictEqual(r.control, "/tmp/x.sock");
  strictEqual(r.script.report, "r.json");
});

Deno.test("bad steps are usage errors naming the option", () => {
  const bad: [string[], RegExp][] = [
    [["--expect", "(unclosed"], /^--expect '\(unclosed' is not a regular expression/],
    [["--fail-on", "[z-a]"], /^--fail-on '\[z-a\]' is not a regular expression/],
    [["--key", "Ctrl+Bogus"], /^--key 'Ctrl\+Bogus': /],
    [["--send", "a\\q"], /^--send 'a\\q': unknown escape '\\q'/],
    [["--type", "\\x4"], /^--type '\\x4': unknown escape/],
    [["--step-timeout", "soon"], /^--step-timeout 'soon' must be a positive number/],
    [["--screenshot", ""], /^--screenshot needs a file name/],
  ];
  for (const [args, message] of bad) {
    throws(() => parse(...args), (e) => e instanceof UsageError && message.test(e.message));
  }
});

Deno.test("unescapeText handles every escape and passes UTF-8 through", () => {
  deepStrictEqual(
    [...unescapeText("\\n\\r\\t\\e\\a\\b\\0\\\\\\x7F\\xffA😀", "--send")],
    [10, 13, 9, 27, 7, 8, 0, 92, 0x7f, 0xff, 65, 0xf0, 0x9f, 0x98, 0x80],
  );
  throws(() => unescapeText("trailing\\", "--send"), /unknown escape '\\'/);
});

Deno.test("a run with steps, checks or a report counts as scripted; a control socket does not", () => {
  strictEqual(isScripted(parse().script), false);
  strictEqual(isScripted(parse("--timeout", "5", "--no-reboot").script), false);
  // The console serves the control socket too.
  strictEqual(isScripted(parse("--control", "c.sock").script), false);
  for (
    const args of [
      ["--expect", "x"],
      ["--exit-on", "x"],
      ["--fail-on", "x"],
      ["--report", "r.json"],
      ["--screenshot-on-fail", "f.png"],
    ]
  ) {
    strictEqual(isScripted(parse(...args).script), true, args.join(" "));
  }
});
