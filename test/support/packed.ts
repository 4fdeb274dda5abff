/**
 * The package as a newcomer gets it: `npm pack` in a fresh clone of this working tree (its files as
 * git lists them, tracked or new, nothing ignored such as dist/), then `npm install` of the tarball
 * into a new app. Real npm, real tarball; dependencies come from the npm cache that `npm ci` filled
 * (`--prefer-offline`), at the versions this repository uses.
 */

import { execFile, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The environment of a user's shell: without the `npm_*` variables of the `npm test` that runs
 * us (they would reconfigure the nested npm), and without npm's network chatter.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) if (!/^npm_/i.test(name)) env[name] = value
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra }
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, env: options.env ?? userEnv(), timeout: options.timeout ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${command} ${args.join(' ')}\` in ${options.cwd} failed: ${err.message}\n${stdout}\n${stderr}`))
      else resolve({ stdout, stderr })
    })
  })
}

/** The version of a package installed in this repository's node_modules. */
export function installedVersion(name: string): string {
  return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version
}

export interface Packed {
  /** A scratch directory for this test file; removed by `cleanup()`. */
  scratch: string
  /** The fresh clone `npm pack` ran in. */
  clone: string
  tarball: string
  /** The files in the tarball, relative to the package root, sorted. */
  files: string[]
  cleanup(): void
}

/** Copies this working tree as a fresh clone would have it and runs `npm pack` there. */
export async function packFreshClone(): Promise<Packed> {
  const scratch = mkdtempSync(join(tmpdir(), 'express-par-pack-'))
  const clone = join(scratch, 'express-par')
  let listed: string
  try {
    ;({ stdout: listed } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root }))
  } catch (err) {
    throw new Error(`The package tests copy the files git lists, as a fresh clone has them: run them in a git checkout with git installed.\n${(err as Error).message}`)
  }
  for (const file of listed.split('\0').filter(Boolean)) {
    if (!existsSync(join(root, file))) continue // deleted in the working tree, not yet committed
    mkdirSync(dirname(join(clone, file)), { recursive: true })
    cpSync(join(root, file), join(clone, file))
  }
  // `npm ci` in a fresh clone would install the same tree: link this one rather than install it again.
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir')
  const { stdout } = await run('npm', ['pack', '--pack-destination', scratch], { cwd: clone })
  const tarball = join(scratch, stdout.trim().split('\n').pop()!)
  const { stdout: listing } = await run('tar', ['-tzf', tarball], { cwd: scratch })
  const files = listing
    .split('\n')
    .filter((line) => line && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''))
    .sort()
  return { scratch, clone, tarball, files, cleanup: () => rmSync(scratch, { recursive: true, force: true }) }
}

/**
 * Makes a new app as the README's Quick start does (`npm init -y`, `npm pkg set type=module`) and
 * installs the tarball, express and express-session into it, plus `extra` packages (name@version).
 */
export async function newAppWith(packed: Packed, extra: string[] = []): Promise<string> {
  const app = join(packed.scratch, 'my-app')
  mkdirSync(app)
  await run('npm', ['init', '-y'], { cwd: app })
  await run('npm', ['pkg', 'set', 'type=module'], { cwd: app })
  await run(
    'npm',
    ['install', '--prefer-offline', packed.tarball, `express@${installedVersion('express')}`, `express-session@${installedVersion('express-session')}`, ...extra],
    { cwd: app },
  )
  return app
}

/** Ends a process started with `detached: true`, and everything it started, by its process group. */
export function stopGroup(child: ChildProcess | undefined): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    // already gone
  }
}
