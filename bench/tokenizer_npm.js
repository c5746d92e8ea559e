#!/usr/bin/env node
// Times the npm package gpt-3-encoder@1.1.4's encode() on the Debian fortunes corpus (the same
// files, in the same order, as nn::default_corpus()). Prints "<seconds> <tokens>" on stdout.
// Called by bench_tokenizer. The text is encoded in parts cut before a '\n' that follows a
// non-space character, which gives the same ids as one call (scripts/golden/make_gpt2_tokens.js
// explains why) and avoids the package's quadratic array concatenation on long inputs.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execSync } = require('child_process');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt2-bench-'));
execSync('npm pack --silent gpt-3-encoder@1.1.4 && tar xzf gpt-3-encoder-1.1.4.tgz', { cwd: tmp, stdio: 'ignore' });
const { encode } = require(path.join(tmp, 'package', 'Encoder.js'));
const dir = '/usr/share/games/fortunes';
const text = fs.readdirSync(dir)
  .filter((f) => !f.endsWith('.dat') && !f.endsWith('.u8') && fs.lstatSync(path.join(dir, f)).isFile())
  .sort()
  .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
  .join('');
const t0 = process.hrtime.bigint();
let n = 0;
for (let start = 0; start < text.length;) {
  let cut = Math.min(text.length, start + 2000);
  while (cut < text.length && !(text[cut] === '\n' && !/\s/u.test(text[cut - 1]))) ++cut;
  n += encode(text.slice(start, cut)).length;
  start = cut;
}
const s = Number(process.hrtime.bigint() - t0) / 1e9;
fs.rmSync(tmp, { recursive: true, force: true });
process.stdout.write(`${s} ${n}\n`);
