// The peers of bench_tokens: the npm packages js-tiktoken (pure
// JavaScript) and tiktoken (tiktoken's Rust core in WebAssembly), from
// tests/harness/node/node_modules. Counts every JSON string of the corpus (in
// memory; the fastest of `passes` passes), writes one count a line, and
// prints one JSON object of figures.
// Usage: node peers.mjs js|wasm ENCODING CORPUS.jsonl COUNTS.txt [PASSES]
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../tests/harness/node/package.json", import.meta.url));
const [impl, enc, corpus, out, passesArg] = process.argv.slice(2);
const passes = Number(passesArg || 3);
const t0 = performance.now();
let count;
if (impl === "wasm") {
  const e = require("tiktoken").get_encoding(enc);
  count = (s) => e.encode_ordinary(s).length;
} else {
  const e = require("js-tiktoken").getEncoding(enc);
  count = (s) => e.encode(s, [], []).length;
}
const load = (performance.now() - t0) / 1000;
const strings = fs.readFileSync(corpus, "utf8").split("\n").filter((l) => l.length).map((l) => JSON.parse(l));
const bytes = strings.reduce((a, s) => a + Buffer.byteLength(s, "utf8"), 0);
let best = Infinity, counts, total;
for (let p = 0; p < passes; p++) {
  const s = performance.now();
  counts = strings.map(count);
  const d = (performance.now() - s) / 1000;
  if (d < best) best = d;
}
total = counts.reduce((a, b) => a + b, 0);
fs.writeFileSync(out, counts.join("\n") + "\n");
console.log(JSON.stringify({ impl: impl === "wasm" ? "tiktoken (wasm)" : "js-tiktoken",
  encoding: enc, strings: strings.length, bytes, tokens: total, load_s: +load.toFixed(4),
  count_s: +best.toFixed(4), mb_per_s: +(bytes / best / 1e6).toFixed(2) }));
