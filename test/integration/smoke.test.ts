import { startStack } from '../support/stack.js'

test('full login through PAR', async () => {
  const stack = await startStack()
  try {
    const browser = stack.browser()
    const done = await stack.login(browser)
    expect(done.status).toBe(302)
    const me = await browser.request(`${stack.baseURL}/`)
    expect(JSON.parse(me.body)).toMatchObject({ authenticated: true, user: { sub: 'alice' } })
  } finally {
    await stack.close()
  }
})
