// Start-up failures of `npm start` and `npm run op`, in words: a port that is already taken names
// the environment variable that picks another one.

/**
 * @param {Error & { code?: string, port?: number }} err what listen() or the start-up threw
 * @param {Record<string, number>} ports each environment variable that sets a port, and the port it set
 * @param {string} command the command to run again, e.g. `npm start`
 * @returns {string}
 */
export function startupFailure(err, ports, command) {
  if (err?.code !== 'EADDRINUSE') return err?.message ?? String(err)
  const names = Object.keys(ports).filter((name) => ports[name] === err.port)
  const fix = names.length > 0 ? ` Set ${names.join(' or ')} to a free port, e.g. ${names[0]}=${err.port + 10} ${command}` : ''
  return `Port ${err.port} is already in use (another program, or another ${command}, listens on it).${fix}`
}
