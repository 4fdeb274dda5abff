// oidc-provider prints development warnings (Node 20, in-memory adapter, dev interactions) on every
// start; they are expected here and would bury real test output.
for (const method of ['warn', 'info'] as const) {
  const original = console[method].bind(console)
  console[method] = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider')) return
    original(...args)
  }
}
