// A Node application following a segue cutover through OFREP, with the
// OpenFeature server SDK and its OFREP provider: nothing of segue's own is
// loaded, only `segue serve` (or `segue run --http`) is asked.
//
//   npm ci && node follow_cutover.mjs OFREP_URL NAME USERS
//
// NAME is the migration's name (the spec's `name`), USERS how many users
// (targeting keys user-1 .. user-USERS) the application routes. Every 200
// ms it evaluates, as a real request path would, where each user's reads go
// (flag segue.NAME.reads, by targetingKey) and where writes go (flag
// segue.NAME.writes), and prints a line each time what it sees changes:
//
//   reads: 12 of 100 users on the target; writes: source
//
// It exits 0 once every read and the writes go to the target (the cutover
// is complete), 1 on SIGTERM or SIGINT before that. A token for a service
// listening beyond loopback is read from $SEGUE_TOKEN.
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const [url, name, usersArg] = process.argv.slice(2);
const users = Number(usersArg);
if (!url || !name || !Number.isInteger(users) || users < 1) {
  console.error('usage: node follow_cutover.mjs OFREP_URL NAME USERS');
  process.exit(2);
}
const headers = process.env.SEGUE_TOKEN ? [['Authorization', `Bearer ${process.env.SEGUE_TOKEN}`]] : [];
await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: url, headers }));
const flags = OpenFeature.getClient();

let stopped = false;
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { stopped = true; });

// the defaults an application gives when segue cannot answer: stay on
// the source
const readsOnTarget = async () => {
  const keys = Array.from({ length: users }, (_, i) => `user-${i + 1}`);
  const on = await Promise.all(keys.map((k) =>
    flags.getBooleanValue(`segue.${name}.reads`, false, { targetingKey: k })));
  return on.filter(Boolean).length;
};
const writeSide = () => flags.getStringValue(`segue.${name}.writes`, 'source', {});

let last = '';
while (!stopped) {
  const [reads, writes] = await Promise.all([readsOnTarget(), writeSide()]);
  const seen = `reads: ${reads} of ${users} users on the target; writes: ${writes}`;
  if (seen !== last) console.log(seen);
  last = seen;
  if (reads === users && writes === 'target') break;
  await new Promise((r) => setTimeout(r, 200));
}
await OpenFeature.close();
process.exit(stopped ? 1 : 0);
