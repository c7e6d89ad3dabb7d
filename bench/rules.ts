// Rule evaluation throughput: our compiled conditions vs expr-eval vs json-rules-engine on the
// same 100 rules and the same events. Run with `npx tsx bench/rules.ts`; prints a markdown table
// and checks that every engine matched exactly the same (event, rule) pairs.
import exprEval from 'expr-eval';
import { Engine } from 'json-rules-engine';
import { compileCondition } from '../src/engine/compile.js';
import { buildRuleSet } from '../src/engine/ruleset.js';
// The fuzzers' seeded PRNG (mulberry32), so every run sees the same events.
import { seededRandom } from '../test/support/random.js';

const RULE_COUNT = 100;
const EVENT_COUNT = 100_000;
// json-rules-engine is async and resolves JSONPath per fact; a sample keeps the run short.
const JSON_RULES_ENGINE_EVENTS = 2_000;
const TYPES = Array.from({ length: 10 }, (_, i) => `transfer.type${i}`);
const STATUSES = ['ok', 'failed', 'pending', 'retry'];

interface BenchRule {
  id: string;
  type: string;
  minAmount: number;
  statuses: string[];
}
interface BenchEvent {
  type: string;
  payload: { amount: number; status: string };
}

const rules: BenchRule[] = Array.from({ length: RULE_COUNT }, (_, i) => ({
  id: `rule${i}`,
  type: TYPES[i % TYPES.length] as string,
  minAmount: 1000 * ((i * 7) % 20),
  statuses: [STATUSES[i % 4] as string, STATUSES[(i + 1) % 4] as string],
}));

const random = seededRandom(42);
const oneOf = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
// One type in eleven matches no rule at all.
const eventTypes = [...TYPES, 'user.login'];
const events: BenchEvent[] = Array.from({ length: EVENT_COUNT }, () => ({
  type: oneOf(eventTypes),
  payload: { amount: Math.floor(random() * 20_000), status: oneOf(STATUSES) },
}));

const quoted = (values: string[]) => values.map((value) => JSON.stringify(value)).join(', ');
const ourCondition = (rule: BenchRule) =>
  `event.type == "${rule.type}" && event.payload.amount > ${rule.minAmount} && ` +
  `event.payload.status in [${quoted(rule.statuses)}]`;
const exprEvalCondition = (rule: BenchRule) =>
  `event.type == "${rule.type}" and event.payload.amount > ${rule.minAmount} and ` +
  `event.payload.status in [${quoted(rule.statuses)}]`;
const jsonRulesEngineRule = (rule: BenchRule, index: number) => ({
  conditions: {
    all: [
      { fact: 'event', path: '$.type', operator: 'equal', value: rule.type },
      { fact: 'event', path: '$.payload.amount', operator: 'greaterThan', value: rule.minAmount },
      { fact: 'event', path: '$.payload.status', operator: 'in', value: rule.statuses },
    ],
  },
  event: { type: String(index) },
});

/** matches[event * RULE_COUNT + rule] is 1 when the engine matched that pair. */
interface Run {
  engine: string;
  events: number;
  seconds: number;
  matches: Uint8Array;
}

function timeSync(
  engine: string,
  eventCount: number,
  matchEvent: (event: BenchEvent, row: Uint8Array) => void,
): Run {
  // Warm up on a slice so the JIT has settled before the clock starts.
  const scratch = new Uint8Array(RULE_COUNT);
  for (let e = 0; e < Math.min(5_000, eventCount); e++) matchEvent(events[e] as BenchEvent, scratch.fill(0));
  const matches = new Uint8Array(eventCount * RULE_COUNT);
  const started = performance.now();
  for (let e = 0; e < eventCount; e++) {
    matchEvent(events[e] as BenchEvent, matches.subarray(e * RULE_COUNT, (e + 1) * RULE_COUNT));
  }
  return { engine, events: eventCount, seconds: (performance.now() - started) / 1000, matches };
}

function progress(run: Run): Run {
  console.error(`  ${run.engine}: ${run.events} events in ${run.seconds.toFixed(2)} s`);
  return run;
}

async function main(): Promise<void> {
  console.error(`${RULE_COUNT} rules × ${EVENT_COUNT} events`);
  const runs: Run[] = [];

  const compiled = rules.map((rule) => compileCondition(ourCondition(rule)));
  runs.push(
    progress(
      timeSync('tocsin compiled (every rule)', EVENT_COUNT, (event, row) => {
        for (let r = 0; r < RULE_COUNT; r++)
          if ((compiled[r] as (typeof compiled)[number]).evaluate(event)) row[r] = 1;
      }),
    ),
  );

  // The floor: the same rules written by hand in JavaScript, with the same own-property reads.
  const own = (value: unknown, key: string): unknown =>
    typeof value === 'object' && value !== null && Object.hasOwn(value, key)
      ? (value as Record<string, unknown>)[key]
      : undefined;
  const handWritten = rules.map((rule) => {
    const statuses = new Set<unknown>(rule.statuses);
    return (event: unknown) => {
      const payload = own(event, 'payload');
      const amount = own(payload, 'amount');
      return (
        own(event, 'type') === rule.type &&
        typeof amount === 'number' &&
        amount > rule.minAmount &&
        statuses.has(own(payload, 'status'))
      );
    };
  });
  runs.push(
    progress(
      timeSync('hand-written JS (reference)', EVENT_COUNT, (event, row) => {
        for (let r = 0; r < RULE_COUNT; r++)
          if ((handWritten[r] as (typeof handWritten)[number])(event)) row[r] = 1;
      }),
    ),
  );

  const ruleSet = buildRuleSet(
    rules.map((rule, index) => ({ id: rule.id, condition: ourCondition(rule), priority: 0, index })),
  );
  runs.push(
    progress(
      timeSync('tocsin RuleSet (type index)', EVENT_COUNT, (event, row) => {
        for (const rule of ruleSet.match(event).rules) row[rule.index] = 1;
      }),
    ),
  );

  const parser = new exprEval.Parser({ operators: { in: true } });
  const expressions = rules.map((rule) => parser.parse(exprEvalCondition(rule)));
  runs.push(
    progress(
      timeSync('expr-eval', EVENT_COUNT, (event, row) => {
        const scope = { event } as never;
        for (let r = 0; r < RULE_COUNT; r++) {
          if ((expressions[r] as (typeof expressions)[number]).evaluate(scope) === true) row[r] = 1;
        }
      }),
    ),
  );

  const engine = new Engine(rules.map(jsonRulesEngineRule), { allowUndefinedFacts: true });
  for (let e = 0; e < 200; e++) await engine.run({ event: events[e] });
  const engineMatches = new Uint8Array(JSON_RULES_ENGINE_EVENTS * RULE_COUNT);
  const started = performance.now();
  for (let e = 0; e < JSON_RULES_ENGINE_EVENTS; e++) {
    const result = await engine.run({ event: events[e] });
    for (const matched of result.events) engineMatches[e * RULE_COUNT + Number(matched.type)] = 1;
  }
  runs.push(
    progress({
      engine: `json-rules-engine (${JSON_RULES_ENGINE_EVENTS} events, scaled)`,
      events: JSON_RULES_ENGINE_EVENTS,
      seconds: (performance.now() - started) / 1000,
      matches: engineMatches,
    }),
  );

  printTable(runs);
}

function printTable(runs: Run[]): void {
  const [ours] = runs as [Run, ...Run[]];
  const rate = (run: Run) => (run.events * RULE_COUNT) / run.seconds;
  // Compare each engine with ours on the events both ran.
  const mismatches = (run: Run) =>
    run.matches.reduce((count, match, i) => count + (match !== ours.matches[i] ? 1 : 0), 0);
  const matchCount = (run: Run) => run.matches.reduce((count, match) => count + match, 0);
  const format = (value: number) => Math.round(value).toLocaleString('en-US');

  console.log(
    `\n${RULE_COUNT} rules × ${EVENT_COUNT.toLocaleString('en-US')} events (Node ${process.version})\n`,
  );
  console.log('| engine | events | evaluations/s | ratio vs ours | matches | mismatches vs ours |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const run of runs) {
    const ratio = rate(run) / rate(ours);
    console.log(
      `| ${run.engine} | ${format(run.events)} | ${format(rate(run))} | ${ratio.toFixed(ratio < 0.1 ? 4 : 2)}× | ` +
        `${format(matchCount(run))} | ${mismatches(run)} |`,
    );
  }
  console.log(
    '\nevaluations/s = events × rules ÷ seconds; for the RuleSet row that is the effective rate, ' +
      'since the type index evaluates only the rules of the event type.',
  );
}

await main();
