#!/usr/bin/env node
// The `express-par` command (package.json "bin"): `npx express-par keygen [--fapi] [--alg PS256] [--format pem|jwk]`.
import { main } from './keygen.js'

process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr)
