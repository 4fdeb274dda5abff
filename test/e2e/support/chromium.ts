/**
 * Debian's Chromium driven by playwright-core. A test tool's own browser download does not work
 * here, so the browser is the system one: `/usr/bin/chromium` (apt-get install chromium), or
 * `CHROMIUM_PATH`. A missing browser fails the suite with the fix in the message; it never skips.
 */

import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/**
 * Flags beyond playwright's own (which already run headless with `--no-sandbox` and a fresh
 * temporary `--user-data-dir` per launch, deleted on close): no GPU, no QUIC, nothing that talks
 * to Google in the background, and no host but localhost, 127.0.0.1 and 127.0.0.2 (another site,
 * for cross-site tests) resolves (the OP's development pages @import a web font from the internet). Blocking by DNS rather than by request
 * interception keeps the HTTP cache on, so the back button behaves as it does for users.
 */
export const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE 127.0.0.2',
]

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium'
}

/** Launches one headless Chromium (one per test file; each test opens its own context). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath()
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. The end-to-end tests need a real browser: install Debian's ` +
        '(`sudo apt-get install chromium`, or `bash scripts/install-system-deps.sh`) or set CHROMIUM_PATH to a Chromium binary.',
    )
  }
  return chromium.launch({
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_ARGS,
    // Users' browsers keep pages in the back/forward cache; playwright turns it off by default.
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
  })
}
