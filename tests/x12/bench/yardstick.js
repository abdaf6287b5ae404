// The yardstick for `cargo bench -p flowmap --bench x12`: node-x12 (npm,
// MIT) reading the same mailbag as a stream of segments, each transaction
// set gathered into a plain object (segment tag -> element values), as the
// Rust reader gathers each set into a record. Prints one JSON line.
// Usage: NODE_PATH=<dir with node_modules> node yardstick.js FILE
const fs = require('fs')
const { X12Parser } = require('node-x12')

const file = process.argv[2]
const started = process.hrtime.bigint()
let sets = 0
let lines = 0
let current = null
const parser = new X12Parser()
fs.createReadStream(file)
  .pipe(parser)
  .on('data', (segment) => {
    const tag = segment.tag
    if (tag === 'ST') {
      current = {}
    } else if (tag === 'SE') {
      if (current !== null) sets++
      current = null
    } else if (current !== null) {
      const values = segment.elements.map((e) => e.value)
      if (tag === 'PO1') lines++
      ;(current[tag] = current[tag] || []).push(values)
    }
  })
  .on('end', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const bytes = fs.statSync(file).size
    console.log(JSON.stringify({ parser: 'node-x12', seconds, sets, lines, mb_per_s: bytes / 1e6 / seconds, peak_rss_kib: process.resourceUsage().maxRSS }))
  })
  .on('error', (e) => {
    console.error(String(e))
    process.exit(1)
  })
