/**
 * Typed errors for failed system calls, carrying the call and errno name.
 *
 * @module
 */

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  22: "EINVAL",
  24: "EMFILE",
  25: "ENOTTY",
  28: "ENOSPC",
  38: "ENOSYS",
  95: "EOPNOTSUPP",
};

/** The symbolic name of an errno value ("EINVAL"), or "E<number>". */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}

/** A failed ioctl or system call on /dev/kvm, a VM or a vCPU. */
export class KvmError extends Error {
  /** Symbolic errno name, e.g. "EINVAL". */
  readonly errnoName: string;

  /**
   * @param call the ioctl or syscall name, e.g. "KVM_CREATE_VM"
   * @param errno the errno value it failed with; 0 when the call did not fail
   *   but its answer was unusable (the detail says how)
   */
  constructor(readonly call: string, readonly errno: number, detail?: string) {
    const name = errnoName(errno);
    super(
      errno === 0
        ? `${call} failed${detail ? `: ${detail}` : ""}`
        : `${call} failed: ${name}${detail ? ` (${detail})` : ""}`,
    );
    this.name = "KvmError";
    this.errnoName = name;
  }
}

/** /dev/kvm cannot be opened: missing, no permission, or not a KVM host. */
export class KvmUnavailableError extends Error {
  /** @param errno why open(2) failed */
  constructor(readonly errno: number, readonly path: string) {
    super(kvmUnavailableMessage(errno, path));
    this.name = "KvmUnavailableError";
  }
}

function kvmUnavailableMessage(errno: number, path: string): string {
  switch (errnoName(errno)) {
    case "ENOENT":
      return `${path} does not exist: this host has no KVM (enable virtualization in the ` +
        `firmware, load the kvm_intel or kvm_amd module, or run on a host with nested KVM)`;
    case "EACCES":
    case "EPERM":
      return `no permission to open ${path}: add yourself to the kvm group ` +
        `(sudo usermod -aG kvm $USER, then log in again) or run as root`;
    default:
      return `cannot open ${path}: ${errnoName(errno)}`;
  }
}

/** A saved KVM state that cannot be put back: wrong version, malformed, or for another kind of VM. */
export class KvmStateError extends Error {
  /** @param part which state refused ("vcpu 0", "vm"), @param message why */
  constructor(readonly part: string, message: string) {
    super(`${part}: ${message}`);
    this.name = "KvmStateError";
  }
}
