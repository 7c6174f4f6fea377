// A routed application that is not C: it follows a segue migration through
// OFREP alone (the OpenFeature SDK and its OFREP provider) while it reads
// and writes a PostgreSQL table. Before each operation it asks the flags
// segue.<name>.writes and segue.<name>.reads (by the row's key) and uses the
// side they name; a write the old side refuses (segue's guard, SQLSTATE
// P0001, after the write cutover and before the flag reached it) is asked
// again and retried. Two loops work on disjoint keys until STOP exists.
//
//   node app.mjs OFREP_URL NAME SOURCE_URI SOURCE_TABLE TARGET_URI TARGET_TABLE ROWS DIR
//
// DIR/stats.json is rewritten as it goes; at the end DIR/ledger holds each
// key it wrote with its last acknowledged balance ("-" once deleted), and
// the stats are printed: operations, failed (after retries), retried,
// writes by side. Every operation's outcome (side, kind, ok, ms) is
// reported to segue serve's POST /api/v1/events in batches, as the
// error-rate and latency gates need them.
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { existsSync, writeFileSync } from 'node:fs';
import pg from 'pg';

const [url, name, srcUri, srcTable, tgtUri, tgtTable, rowsArg, dir] = process.argv.slice(2);
const rows = Number(rowsArg);
await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: url }));
const flags = OpenFeature.getClient();
const sides = {
  source: { pool: new pg.Pool({ connectionString: srcUri, max: 2 }), table: srcTable },
  target: { pool: new pg.Pool({ connectionString: tgtUri, max: 2 }), table: tgtTable },
};
const stats = { operations: 0, failed: 0, retried: 0, reads: { source: 0, target: 0 },
                writes: { source: 0, target: 0 }, errors: [] };
const ledger = new Map();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// outcomes, sent in batches every 200 ms
let outcomes = [];
const outcome = (side, kind, ok, t0) =>
  outcomes.push({ migration: name, side, kind, ok, ms: performance.now() - t0 });
async function sendOutcomes() {
  if (!outcomes.length) return;
  const batch = outcomes;
  outcomes = [];
  try {
    const res = await fetch(`${url}/api/v1/events`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(batch) });
    if (res.status !== 202) stats.events_refused = (stats.events_refused ?? 0) + batch.length;
  } catch {
    stats.events_lost = (stats.events_lost ?? 0) + batch.length;
  }
}

const failed = (what, e) => {
  stats.failed++;
  if (stats.errors.length < 5) stats.errors.push(`${what}: ${e.code ?? ''} ${e.message}`);
};

// one write, on the side the flag names now; the old side's refusal after a
// cutover is asked again (the flag follows within serve.refresh)
async function write(id, sql, params, value) {
  for (let attempt = 0; attempt < 500; attempt++) {
    const side = await flags.getStringValue(`segue.${name}.writes`, 'source',
                                            { targetingKey: String(id) });
    const s = sides[side] ?? sides.source;
    const t0 = performance.now();
    try {
      const res = await s.pool.query(sql.replaceAll('TBL', `"${s.table}"`), params);
      outcome(side, 'write', res.rowCount === 1, t0);
      if (res.rowCount !== 1)
        return failed(`write ${id} on ${side}`, new Error(`${res.rowCount} rows, not 1`));
      stats.writes[side]++;
      ledger.set(id, value);
      return;
    } catch (e) {
      if (e.code === 'P0001' && /segue/.test(e.message)) {
        stats.retried++;
        await sleep(10);
        continue;
      }
      outcome(side, 'write', false, t0);
      return failed(`write ${id} on ${side}`, e);
    }
  }
  failed(`write ${id}`, new Error('still refused after 500 tries'));
}

async function read(id) {
  const target = await flags.getBooleanValue(`segue.${name}.reads`, false,
                                             { targetingKey: String(id) });
  const side = target ? 'target' : 'source';
  const t0 = performance.now();
  try {
    await sides[side].pool.query(`SELECT balance FROM "${sides[side].table}" WHERE id = $1`, [id]);
    outcome(side, 'read', true, t0);
    stats.reads[side]++;
  } catch (e) {
    outcome(side, 'read', false, t0);
    failed(`read ${id} on ${side}`, e);
  }
}

// loop k owns the keys k, k+2, k+4, ...: a key's writes are in order
async function loop(k) {
  const mine = [];
  for (let id = 1 + k; id <= rows; id += 2) mine.push(id);
  let next = 1000000 + k;
  while (!existsSync(`${dir}/STOP`)) {
    const r = Math.random();
    const balance = Math.floor(Math.random() * 100000);
    if (r < 0.4) {
      const id = next;
      next += 2;
      await write(id, 'INSERT INTO TBL (id, balance, note) VALUES ($1, $2, $3)',
                  [id, balance, `app ${k}`], balance);
      mine.push(id);
    } else if (r < 0.9 || mine.length < 10) {
      const id = mine[Math.floor(Math.random() * mine.length)];
      await write(id, 'UPDATE TBL SET balance = $2 WHERE id = $1', [id, balance], balance);
    } else {
      const id = mine.splice(Math.floor(Math.random() * mine.length), 1)[0];
      await write(id, 'DELETE FROM TBL WHERE id = $1', [id], '-');
    }
    await read(mine[Math.floor(Math.random() * mine.length)]);
    stats.operations += 2;
  }
}

const report = setInterval(() => {
  writeFileSync(`${dir}/stats.json`, JSON.stringify(stats));
  sendOutcomes();
}, 200);
await Promise.all([loop(0), loop(1)]);
clearInterval(report);
await sendOutcomes();
writeFileSync(`${dir}/ledger`, [...ledger].map(([id, v]) => `${id} ${v}`).join('\n') + '\n');
writeFileSync(`${dir}/stats.json`, JSON.stringify(stats));
console.log(JSON.stringify(stats));
await Promise.all([sides.source.pool.end(), sides.target.pool.end(), OpenFeature.close()]);
