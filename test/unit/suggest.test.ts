import { suggest } from '../../lib/config/suggest.js'

const known = ['issuerBaseURL', 'baseURL', 'clientID', 'clientSecret', 'httpTimeout']

test.each([
  ['clientId', 'clientID'],
  ['clientSecert', 'clientSecret'],
  ['baseUrl', 'baseURL'],
  ['httptimeout', 'httpTimeout'],
])('%s -> %s', (given, expected) => {
  expect(suggest(given, known)).toBe(expected)
})

test('no suggestion when nothing is close', () => {
  expect(suggest('colour', known)).toBeUndefined()
})
