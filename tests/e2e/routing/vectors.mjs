// Runs docs/routing.md's JavaScript (its first ```js block, as a reader
// would copy it) on the page's test vectors or on keys, so that the tests
// hold segue's buckets against an implementation in another language.
//
//   node vectors.mjs ROUTING_MD vectors
//     prints "SALT<TAB>KEYHEX<TAB>PAGE_BUCKET<TAB>JS_BUCKET" per vector
//     (KEYHEX: the key's UTF-8 bytes in hexadecimal, "-" when empty)
//   node vectors.mjs ROUTING_MD keys SALT PCT < keys
//     prints "KEY<TAB>BUCKET<TAB>SIDE" per key (SIDE at PCT percent)
import { readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const [page, mode, salt, pct] = process.argv.slice(2);
const md = readFileSync(page, 'utf8');
const code = md.match(/^```js\n([\s\S]*?)^```$/m);
if (!code) { console.error(`no \`\`\`js block in ${page}`); process.exit(2); }
// (beside this file, where hash-wasm is installed)
const mod = join(dirname(fileURLToPath(import.meta.url)), `.reference-${process.pid}.mjs`);
writeFileSync(mod, code[1]);
let ref;
try { ref = await import(mod); } finally { unlinkSync(mod); }

const hex = (s) => (s === '' ? '-' : Buffer.from(s, 'utf8').toString('hex'));
if (mode === 'vectors') {
  const table = md.slice(md.indexOf('## Test vectors'));
  const row = /^\| `([0-9a-f]+)` \| `(".*?")(?: \* (\d+))?` \| (\d+) \| (\d+) \|$/gm;
  for (const m of table.matchAll(row)) {
    const key = JSON.parse(m[2]).repeat(m[3] ? Number(m[3]) : 1);
    if (Buffer.byteLength(key) !== Number(m[4])) {
      console.error(`vector ${m[2]}: ${Buffer.byteLength(key)} bytes, the page says ${m[4]}`);
      process.exit(2);
    }
    console.log(`${m[1]}\t${hex(key)}\t${m[5]}\t${await ref.bucket(m[1], key)}`);
  }
} else if (mode === 'keys') {
  for await (const key of createInterface({ input: process.stdin })) {
    const b = await ref.bucket(salt, key);
    console.log(`${key}\t${b}\t${ref.readsTarget(b, Number(pct)) ? 'target' : 'source'}`);
  }
} else {
  console.error('usage: node vectors.mjs ROUTING_MD vectors | keys SALT PCT < keys');
  process.exit(2);
}
