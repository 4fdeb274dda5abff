import { safeReturnTo } from '../../lib/http/return-to.js'

const base = new URL('https://app.example.com')

describe('safeReturnTo', () => {
  test.each([
    ['/profile', '/profile'],
    ['/orders?id=7&x=%2F%2Fevil', '/orders?id=7&x=%2F%2Fevil'],
    ['/a/../b', '/b'],
    ['/page#section', '/page#section'],
  ])('keeps the same-origin path %s', (value, expected) => {
    expect(safeReturnTo(value, base)).toBe(expected)
  })

  test.each([
    ['an absolute URL', 'https://evil.example/x'],
    ['a same-origin absolute URL', 'https://app.example.com/x'],
    ['a protocol-relative URL', '//evil.example'],
    ['a backslash host', '/\\evil.example'],
    ['a backslash after the slash, encoded newline', '/\n/evil.example'],
    ['a tab trick', '/\t/evil.example'],
    ['javascript:', 'javascript:alert(1)'],
    ['a data: URL', 'data:text/html,x'],
    ['a relative path', 'profile'],
    ['an empty string', ''],
    ['a non-string', ['/a', '/b']],
    ['an over-long path', '/' + 'a'.repeat(3000)],
    ['a dot segment before a double slash', '/.//evil.example'],
    ['a dot-dot segment before a double slash', '/..//evil.example/x'],
    ['an encoded dot segment', '/%2e//evil.example'],
    ['a path that climbs into a double slash', '/a/..//evil.example'],
    // Refused as given, before URL parsing would quietly rewrite them into something else:
    ['a protocol-relative URL naming the app itself', '//app.example.com/x'],
    ['a backslash inside the path', '/a\\b'],
    ['a C0 control character', '/a\u0001b'],
    ['a tab inside the path', '/a\tb'],
    ['a DEL character', '/a\u007fb'],
  ])('refuses %s', (_name, value) => {
    expect(safeReturnTo(value, base)).toBe('/')
  })

  test('uses the given fallback', () => {
    expect(safeReturnTo('//evil', base, '/home')).toBe('/home')
    expect(safeReturnTo(undefined, base, '/home')).toBe('/home')
  })
})
