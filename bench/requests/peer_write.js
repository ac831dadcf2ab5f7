// Node peer of `bench_requests write`: the same requests, JSON.stringify.
const fs = require('fs');
const TOOLS = [
  {type: 'function', function: {name: 'get_weather', description: 'Get current weather information for a location.',
    parameters: {additionalProperties: false, properties: {location: {type: 'string'}, units: {default: 'celsius', type: 'string'}},
      required: ['location'], type: 'object'}}},
  {type: 'function', function: {name: 'calculate', description: 'Perform mathematical calculations.',
    parameters: {additionalProperties: false, properties: {expression: {type: 'string'}}, required: ['expression'], type: 'object'}}},
];
const SCHEMA = {type: 'object', properties: {location: {type: 'string'}, temperature: {type: 'number'},
  condition: {type: 'string'}, humidity: {type: 'integer'}},
  required: ['location', 'temperature', 'condition', 'humidity'], additionalProperties: false};

function build(i) {
  const k = i % 3;
  let cid, body;
  if (k === 0) {
    cid = `math-${i}`;
    body = {model: 'gpt-4o-mini', messages: [{role: 'user', content: `What is ${i}+${i}? Answer in one sentence, please.`}],
      max_tokens: 50, temperature: 0.8};
  } else if (k === 1) {
    cid = `weather-${i}`;
    body = {model: 'gpt-4o-mini', messages: [{role: 'user', content: `What's the weather like in S\u00e3o Paulo #${i}?`}],
      max_tokens: 150, tools: TOOLS};
  } else {
    cid = `structured-${i}`;
    body = {model: 'gpt-4o-mini', messages: [{role: 'user', content: `Get weather information for Paris (${i}) and format it properly`}],
      max_tokens: 200, response_format: {type: 'json_schema', json_schema: {name: 'WeatherResult', schema: SCHEMA, strict: true}}};
  }
  return {custom_id: cid, method: 'POST', url: '/v1/chat/completions', body};
}

const [path, nStr] = process.argv.slice(2);
const n = parseInt(nStr, 10);
const fd = fs.openSync(path, 'w');
let chunk = [];
let chunkLen = 0;
let bytes = 0;
for (let i = 0; i < n; i++) {
  const s = JSON.stringify(build(i)) + '\n';
  chunk.push(s);
  chunkLen += s.length;
  if (chunkLen >= 1 << 18) {
    const b = Buffer.from(chunk.join(''), 'utf8');
    fs.writeSync(fd, b);
    bytes += b.length;
    chunk = [];
    chunkLen = 0;
  }
}
if (chunk.length) {
  const b = Buffer.from(chunk.join(''), 'utf8');
  fs.writeSync(fd, b);
  bytes += b.length;
}
fs.closeSync(fd);
console.log(`lines=${n} bytes=${bytes}`);
