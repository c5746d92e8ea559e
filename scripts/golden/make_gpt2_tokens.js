#!/usr/bin/env node
// Writes the GPT-2 tokenizer goldens under tests/golden/gpt2_tokens/ with the oracle itself: the
// npm package gpt-3-encoder@1.1.4's encode(), run under node. Run by hand, not in CI:
//   node scripts/golden/make_gpt2_tokens.js [--out DIR] [--fortunes DIR]
// It fetches the package with `npm pack` into a temporary folder (no install).
//
//   fortunes.json  for every Debian fortunes data file (the nn default corpus: regular files
//                  without .dat/.u8): its name, byte count and SHA-256, the token count, the
//                  SHA-256 of the ids written as decimal numbers joined by ',' (the C++ test
//                  hashes its own ids the same way), and the first 200 ids (to locate a mismatch).
//   edge.json      hand-picked and random edge cases, every id written out.
//
// Speed: the package's encode() concatenates arrays per piece, quadratic in the length of its
// input, so long files are encoded in parts cut just before a '\n' that follows a non-space
// character. The result is the same as encoding the file whole: no piece of the pattern can
// contain both a non-space character and a following whitespace character, so such a cut is a
// piece boundary, and the pattern has no look-behind, so the pieces after it are found the same
// way; the only look-ahead, (?!\S), sees whitespace at the cut either way ('\n' or the end).
// The script checks this claim on every file under 40 kB by encoding it whole as well.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { execSync } = require('child_process');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const outDir = opt('--out', path.join(__dirname, '..', '..', 'tests', 'golden', 'gpt2_tokens'));
const fortunesDir = opt('--fortunes', '/usr/share/games/fortunes');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt2-golden-'));
execSync('npm pack --silent gpt-3-encoder@1.1.4 && tar xzf gpt-3-encoder-1.1.4.tgz', { cwd: tmp, stdio: 'ignore' });
const { encode } = require(path.join(tmp, 'package', 'Encoder.js'));

function encodeInParts(text) {
  const ids = [];
  let start = 0;
  const partLen = 2000;
  while (start < text.length) {
    let cut = Math.min(text.length, start + partLen);
    // Move the cut forward to the next '\n' that follows a non-space character.
    while (cut < text.length && !(text[cut] === '\n' && !/\s/u.test(text[cut - 1]))) ++cut;
    for (const id of encode(text.slice(start, cut))) ids.push(id);
    start = cut;
  }
  return ids;
}

const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');
const files = fs.readdirSync(fortunesDir)
  .filter((f) => !f.endsWith('.dat') && !f.endsWith('.u8') && fs.lstatSync(path.join(fortunesDir, f)).isFile())
  .sort();
const fortunes = [];
for (const name of files) {
  const bytes = fs.readFileSync(path.join(fortunesDir, name));
  const text = bytes.toString('utf8');
  if (Buffer.compare(Buffer.from(text, 'utf8'), bytes) !== 0) throw new Error(`${name} is not valid UTF-8`);
  const ids = encodeInParts(text);
  if (bytes.length < 40000) {
    const whole = encode(text);
    if (whole.join(',') !== ids.join(',')) throw new Error(`${name}: encoding in parts differs from whole`);
  }
  if (ids.some((x) => !Number.isInteger(x))) throw new Error(`${name}: encode() gave a non-integer id`);
  fortunes.push({ name, bytes: bytes.length, sha256: sha(bytes), tokens: ids.length,
                  ids_sha256: sha(ids.join(',')), first_ids: ids.slice(0, 200) });
  process.stderr.write(`${name}: ${bytes.length} bytes, ${ids.length} tokens\n`);
}

const edge = [
  '', 'a', ' ', '  ', '\n', 'Hello world', 'Hello, world!', ' leading space', 'trailing space ', 'trailing spaces   ',
  // contractions (lower case only in the pattern), and apostrophes that are not contractions
  "I'm can't we've they'll she'd it's you're", "I'M CAN'T WE'VE", "'s 't 're 've 'm 'll 'd", "'", "''", "'x 'sx 'llama",
  "rock 'n' roll", 'don\u2019t it\u2019s',
  // whitespace runs, tabs, CRLF and the other spaces JavaScript's \s knows
  'a  b   c    d', 'a\t\tb\t c', 'x \n\n y', '\n\n\nword', 'line1\r\nline2\r\n\r\nline4', '  \t \n  word',
  'a\u00a0b \u00a0c', 'a\u2028b\u2029c', 'a\u3000\u3000b', '\ufeffbom', 'a\u200bb', 'a\u180eb', 'a\u2003 b',
  'end with tab\t', '\r\n', ' \r\n ', '\f\v',
  // digits and numbers beyond ASCII
  '123456789 3.14159 1,000,000 x2y 2x', '  42', '\u2167 \u00bd \u00b2 \u0663\u0664 \u0968', '007',
  // emoji, modifiers, ZWJ sequences, flags
  '\u{1F469}\u200d\u{1F469}\u200d\u{1F467}\u200d\u{1F466} family', '\u{1F44D}\u{1F3FD} ok', '\u{1F1EB}\u{1F1F7}', 'I \u2764\ufe0f NY',
  '\u{1F600}\u{1F600}\u{1F600}',
  // combining marks (Mn is not \p{L}: a letter followed by a combining mark splits)
  'caf\u00e9 cafe\u0301', 'Z\u0351\u0352\u0367a\u0364l\u0308g\u0301o', 'n\u0303', '\u0301 alone',
  // scripts
  '\u4f60\u597d\uff0c\u4e16\u754c\u3002', '\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8', '\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8',
  '\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645', '\u0627\u0644\u0633\u064e\u0651\u0644\u0627\u0645\u064f',
  '\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e', '\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35',
  '\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5', '\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!', '\u05e9\u05dc\u05d5\u05dd',
  // punctuation runs and the "first,second" lookup of the oracle
  ',,,,,', 'a,,b', 'a,b,c', '",",', 'x",,"y', '),,', '...!!!???', '--- *** ###', '<|endoftext|>', 'http://example.com/a?b=c&d=e',
  // a long word and a long run
  'a'.repeat(300), ' '.repeat(50) + 'x', 'supercalifragilisticexpialidocious antidisestablishmentarianism',
  // control characters
  '\u0000\u0001\u0002abc\u007f', 'tab\there',
];
// Random strings from a pool that mixes every class the pattern distinguishes.
const pool = Array.from("aZ09 '\t\n\r,.-_\"sSdtmlrve\u00e9\u0301\u00a0\u3000\u4e2d\u0645\u0928\u094d\u{1F600}\u200d\u2167\u00bd\u0663!?");
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
for (let i = 0; i < 300; ++i) {
  const n = 1 + Math.floor(rand() * 40);
  let s = '';
  for (let k = 0; k < n; ++k) s += pool[Math.floor(rand() * pool.length)];
  edge.push(s);
}
const edgeOut = edge.map((text) => ({ text, ids: encode(text) }));
for (const e of edgeOut) {
  if (e.ids.some((x) => !Number.isInteger(x))) throw new Error(`edge case ${JSON.stringify(e.text)}: non-integer id`);
}

fs.mkdirSync(outDir, { recursive: true });
const header = { oracle: 'npm gpt-3-encoder@1.1.4 encode()', node: process.version, unicode: process.versions.unicode };
fs.writeFileSync(path.join(outDir, 'fortunes.json'), JSON.stringify({ ...header, files: fortunes }, null, 1) + '\n');
fs.writeFileSync(path.join(outDir, 'edge.json'), JSON.stringify({ ...header, cases: edgeOut }) + '\n');
fs.rmSync(tmp, { recursive: true, force: true });
process.stderr.write(`wrote ${outDir}/fortunes.json (${fortunes.length} files) and edge.json (${edgeOut.length} cases)\n`);
