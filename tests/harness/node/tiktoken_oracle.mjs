// The oracle of the tokenizer tests: token ids of every line of a JSONL
// file of JSON strings, by the npm package js-tiktoken (or, with --wasm,
// the npm package tiktoken: tiktoken's Rust core in WebAssembly), special
// tokens treated as plain text. One JSON array a line on stdout.
// Usage: node tiktoken_oracle.mjs ENCODING FILE [--wasm]
import fs from "node:fs";
import { getEncoding } from "js-tiktoken";
import { get_encoding } from "tiktoken";

const [enc, file, flag] = process.argv.slice(2);
const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.length);
let encode;
if (flag === "--wasm") {
  const e = get_encoding(enc);
  encode = (s) => Array.from(e.encode_ordinary(s));
} else {
  const e = getEncoding(enc);
  encode = (s) => e.encode(s, [], []);
}
const out = lines.map((l) => JSON.stringify(encode(JSON.parse(l))));
process.stdout.write(out.join("\n") + "\n");
