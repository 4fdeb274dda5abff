// oidc-provider prints development warnings (Node 20, in-memory adapter, dev interactions) when it
// loads and starts; they are expected here. Imported before the OP module.
for (const method of ['warn', 'info']) {
  const original = console[method].bind(console)
  console[method] = (...args) => {
    if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider')) return
    original(...args)
  }
}
