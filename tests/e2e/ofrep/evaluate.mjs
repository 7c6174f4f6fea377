// Evaluates one flag of segue serve through the real OpenFeature server SDK
// and its OFREP provider, as a Node application would, for each targeting
// key read on stdin (an empty line: a context without a targeting key).
// Prints one line per key: key, value, reason, error code ("-" when none),
// tab-separated.
//
//   node evaluate.mjs URL FLAG boolean|string < keys
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { createInterface } from 'node:readline';

const [url, flag, type] = process.argv.slice(2);
if (!url || !flag || !['boolean', 'string'].includes(type)) {
  console.error('usage: node evaluate.mjs URL FLAG boolean|string < keys');
  process.exit(2);
}
const headers = process.env.SEGUE_TOKEN ? [['Authorization', `Bearer ${process.env.SEGUE_TOKEN}`]] : [];
await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: url, headers }));
const client = OpenFeature.getClient();

const keys = [];
for await (const line of createInterface({ input: process.stdin })) keys.push(line);

// the code defaults an application gives: stay on the source
const evaluate = (key) => {
  const ctx = key === '' ? {} : { targetingKey: key };
  return type === 'boolean'
    ? client.getBooleanDetails(flag, false, ctx)
    : client.getStringDetails(flag, 'source', ctx);
};
const out = [];
for (let i = 0; i < keys.length; i += 64) {
  const batch = keys.slice(i, i + 64);
  const details = await Promise.all(batch.map(evaluate));
  details.forEach((d, j) =>
    out.push(`${batch[j]}\t${d.value}\t${d.reason}\t${d.errorCode ?? '-'}`));
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
await OpenFeature.close();
