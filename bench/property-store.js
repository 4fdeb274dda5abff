// `node bench/property-store.js`: what one property costs on Express's req, which the hot-path
// profile pointed at. Express swaps the prototype of every req and res (Object.setPrototypeOf);
// after that, V8 gives each object a hidden class of its own, and adding a property (what
// `req.oidc = ...` does) or reading one misses every cache. Compared with the same operations on
// an untouched IncomingMessage.
import http from 'node:http'
import net from 'node:net'
import express from 'express'

const app = express()
const socket = new net.Socket()
const ROUNDS = 100_000
let sink

function measure(name, prepare, operation) {
  let total = 0
  for (let i = 0; i < ROUNDS; i++) {
    const req = new http.IncomingMessage(socket)
    const res = new http.ServerResponse(req)
    prepare(req, res)
    const started = performance.now()
    operation(req, res)
    total += performance.now() - started
  }
  console.log(`${name.padEnd(44)}${((total * 1e6) / ROUNDS).toFixed(0).padStart(6)} ns`)
}

const untouched = () => {}
/** What Express and express-session do to req/res before a middleware runs (abridged). */
const asExpress = (req, res) => {
  Object.setPrototypeOf(req, app.request)
  Object.setPrototypeOf(res, app.response)
  req.res = res
  res.req = req
  req.next = () => {}
  res.locals = {}
  req.originalUrl = req.url = '/protected'
  req.sessionStore = null
  req.sessionID = 'id'
  req.session = {}
}

for (let pass = 1; pass <= 2; pass++) {
  console.log(`pass ${pass}`)
  measure('add a property, plain req', untouched, (req) => { req.oidc = {} })
  measure('add a property, Express req', asExpress, (req) => { req.oidc = {} })
  measure('add a property, Express res', asExpress, (req, res) => { res.oidc = {} })
  measure('replace an own property, Express req', asExpress, (req) => { req.session = {} })
  measure('read req.method, Express req', asExpress, (req) => { sink = req.method })
}
