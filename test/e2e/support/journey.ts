/**
 * One test = one journey: a fresh browser context (its own cookies, like a new private window),
 * the pages opened in it, a trail of every main-frame navigation, and screenshots of the key steps.
 * Screenshots and the trail are written to `test-results/<test name>/` only when the test fails.
 */

import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'

const RESULTS_DIR = path.resolve('test-results')

export class Journey {
  /** Main-frame navigations, in order, as `tab N: URL`. */
  readonly trail: string[] = []
  readonly #shots: Array<{ name: string; png: Buffer }> = []
  readonly #pages: Page[] = []

  private constructor(readonly context: BrowserContext) {}

  static async open(browser: Browser): Promise<Journey> {
    const context = await browser.newContext({ viewport: { width: 900, height: 640 } })
    context.setDefaultTimeout(10_000)
    return new Journey(context)
  }

  /** Opens a tab whose navigations join the trail. */
  async newPage(): Promise<Page> {
    const page = await this.context.newPage()
    const tab = this.#pages.push(page)
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.trail.push(`tab ${tab}: ${frame.url()}`)
    })
    return page
  }

  /** Screenshots `page` as a key step, kept in memory until the test fails. */
  async step(page: Page, name: string): Promise<void> {
    this.#shots.push({ name, png: await page.screenshot() })
  }

  /** Writes the key steps, the final state of every open tab and the trail to `test-results/`. */
  async saveFailure(testName: string): Promise<string> {
    const dir = path.join(RESULTS_DIR, testName.replace(/[^\w.-]+/g, '-').slice(0, 120))
    await mkdir(dir, { recursive: true })
    let n = 0
    const file = (name: string) => path.join(dir, `${String(++n).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '-')}.png`)
    for (const shot of this.#shots) await writeFile(file(shot.name), shot.png)
    for (const [i, page] of this.#pages.entries()) {
      if (!page.isClosed()) await page.screenshot({ path: file(`final-tab-${i + 1}`) }).catch(() => undefined)
    }
    await writeFile(path.join(dir, 'trail.txt'), this.trail.join('\n') + '\n')
    return dir
  }

  close(): Promise<void> {
    return this.context.close()
  }
}

/**
 * A jest test run as a journey in a new context of `browser()`. On failure the screenshots are
 * saved and their folder is added to the error message.
 */
export function journeyTest(name: string, browser: () => Browser, body: (journey: Journey) => Promise<void>, timeout?: number): void {
  test(
    name,
    async () => {
      const journey = await Journey.open(browser())
      try {
        await body(journey)
      } catch (err) {
        const testName = expect.getState().currentTestName ?? name
        const dir = await journey.saveFailure(testName).catch((saveErr: unknown) => `(screenshots not saved: ${String(saveErr)})`)
        if (err instanceof Error) {
          const extra = `\n\nScreenshots: ${dir}\nNavigation trail:\n  ${journey.trail.join('\n  ') || '(none)'}`
          // jest prints the stack, which already holds the original message.
          if (err.stack?.includes(err.message)) err.stack = err.stack.replace(err.message, err.message + extra)
          err.message += extra
        }
        throw err
      } finally {
        await journey.close()
      }
    },
    timeout,
  )
}
