/**
 * Starting vCPU 0's worker. A worker's thread loads and compiles its modules
 * before it reads its first message, so a front end that knows a machine is
 * coming ({@link prestartVcpuWorker}) starts it while the main thread is
 * still loading its own modules and parsing options; the machine then
 * adopts that worker ({@link takeVcpuWorker}) instead of starting one and
 * waiting for it. This module imports nothing: it is cheap to load first.
 *
 * @module
 */

/** A started vCPU worker, with the error it reported before anyone listened. */
export interface StartedWorker {
  readonly worker: Worker;
  /** Set when the worker failed (its modules did not load) before it was adopted. */
  readonly error: string | null;
}

let early: { worker: Worker; error: string | null } | null = null;

function spawn(): Worker {
  return new Worker(new URL("./vcpu_worker.ts", import.meta.url), { type: "module" });
}

/** Starts the worker the next {@link takeVcpuWorker} hands out, if none is waiting. */
export function prestartVcpuWorker(): void {
  if (early) return;
  const started = { worker: spawn(), error: null as string | null };
  // Until a machine adopts it, a failure is kept for the machine instead of ending the process.
  started.worker.onerror = (ev) => {
    ev.preventDefault();
    started.error ??= ev.message;
  };
  early = started;
}

/** The prestarted worker if there is one (once), or a new one. */
export function takeVcpuWorker(): StartedWorker {
  const started = early;
  early = null;
  if (!started) return { worker: spawn(), error: null };
  started.worker.onerror = null;
  return { worker: started.worker, error: started.error };
}

/** Ends a prestarted worker no machine adopted (a usage error, a failed check). */
export function discardPrestartedVcpuWorker(): void {
  early?.worker.terminate();
  early = null;
}
