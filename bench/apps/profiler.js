// Per-phase CPU profiles of a benchmarked app (BENCH_CPU_PROF): the parent sends
// `profile-start` / `profile-stop` with a phase name over IPC; the profile of that phase alone goes
// to bench/results/profiles/<app>-<phase>.cpuprofile.
import { mkdir, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('../results/profiles/', import.meta.url))
let session

export async function startProfile() {
  if (!session) {
    session = new Session()
    session.connect()
    await session.post('Profiler.enable')
  }
  await session.post('Profiler.start')
}

/** Stops the running profile and writes it; resolves to the file's path. */
export async function stopProfile(app, phase) {
  const { profile } = await session.post('Profiler.stop')
  await mkdir(dir, { recursive: true })
  const file = `${dir}${app}-${phase}.cpuprofile`
  await writeFile(file, JSON.stringify(profile))
  return file
}
