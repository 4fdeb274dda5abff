/**
 * The read-then-write steps of one stored session, in order, within a process: a guarded save
 * (save-guard.ts: re-read, reconcile, write) and a back-channel logout's removal of a login
 * (stored-logout.ts: read, remove, write or destroy). Each step's read happens after the previous
 * step's write, so two of them never both read the same old state and the second never writes a
 * login back that the first removed. Across processes the remaining window is the store's round
 * trip between one step's read and its write.
 */

const steps = new Map<string, Promise<unknown>>()

/**
 * Runs `step` once every earlier step of session `id` in this process has settled, and resolves
 * or rejects as `step` does. A failed step does not stop the ones queued after it.
 */
export function inWriteOrder<T>(id: string, step: () => Promise<T>): Promise<T> {
  const earlier = steps.get(id)
  const run = earlier === undefined ? step() : earlier.then(step, step)
  const settled = run.then(
    () => undefined,
    () => undefined,
  )
  steps.set(id, settled)
  void settled.then(() => {
    if (steps.get(id) === settled) steps.delete(id)
  })
  return run
}
