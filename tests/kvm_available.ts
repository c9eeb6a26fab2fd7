/**
 * The one place tests decide whether this host can run guests. On a host
 * without /dev/kvm the KVM tests are skipped, and that is said loudly.
 *
 * @module
 */

let reported = false;

/** True when /dev/kvm exists. */
export function hasKvm(): boolean {
  try {
    Deno.statSync("/dev/kvm");
    return true;
  } catch {
    if (!reported) {
      reported = true;
      console.error(
        "\n*** /dev/kvm is missing: this host has no KVM, so the tests that run guests are" +
          " SKIPPED ***\n",
      );
    }
    return false;
  }
}

/** Registers a test that needs /dev/kvm (skipped, loudly, only where the host has none). */
export function kvmTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, ignore: !hasKvm(), fn });
}
