/**
 * Cost of the client-side statement backstop per statement: the shared sweep (a Set insert and
 * delete, one timer for all) against a setTimeout/clearTimeout pair per statement, around a
 * statement that answers at once (a resolved promise), so only the deadline's own cost shows.
 * Medians of 5 interleaved rounds.
 *
 * Run: npx tsx bench/deadline-overhead.ts [--n 300000]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { retainClock } from '../dist/pool/clock.js';
import { withDeadline } from '../dist/resilience/deadline-sweeper.js';
import { interleaved, machineLine, median } from './support.js';

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '300000' } } });
const N = Number(args.n);
const expired = () => new Error('late');
const abandon = () => undefined;

/** The alternative the sweep replaces: one timer per statement. */
function perStatementTimer<T>(work: Promise<T>, budgetMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(expired()), budgetMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

const contenders: Record<string, (work: Promise<number>) => Promise<number>> = {
  none: (work) => work,
  'shared sweep': (work) => withDeadline(work, 30_500, expired, abandon),
  'setTimeout per statement': (work) => perStatementTimer(work, 30_500),
};

const release = retainClock(); // as when a pool is open
const results = await interleaved(5, Object.keys(contenders), async (name) => {
  const wrap = contenders[name] as (work: Promise<number>) => Promise<number>;
  const started = performance.now();
  for (let i = 0; i < N; i++) await wrap(Promise.resolve(i));
  return ((performance.now() - started) * 1e6) / N; // ns per statement
});
release();
const base = median(results.get('none') ?? []);
console.log(machineLine());
console.log('| deadline | ns per statement | added over none |');
console.log('|---|---|---|');
for (const [name, values] of results) {
  const ns = median(values);
  console.log(`| ${name} | ${ns.toFixed(0)} | ${(ns - base).toFixed(0)} |`);
}
process.exit(0);
