// `tocsin rule test`: evaluate a condition against a sample event, offline, showing each step.
import { readFileSync } from 'node:fs';
import { ConditionError } from '../engine/parse.js';
import { explainCondition } from '../engine/explain.js';
import { CliError, EXIT, say } from './output.js';

export function ruleTest(options: { condition?: string; event?: string; eventFile?: string }): number {
  if (!options.condition) throw new CliError('rule test needs --condition "<expression>"', EXIT.usage);
  const raw = options.eventFile ? readFileSync(options.eventFile, 'utf8') : options.event;
  if (!raw) throw new CliError('rule test needs --event <json> or --event-file <path>', EXIT.usage);
  let event: unknown;
  try {
    event = JSON.parse(raw);
  } catch (err) {
    throw new CliError(`The event is not valid JSON: ${(err as Error).message}`, EXIT.usage);
  }
  try {
    const result = explainCondition(options.condition, event);
    for (const step of result.steps)
      say(`  ${step.expression}  →  ${JSON.stringify(step.value) ?? 'undefined'}`);
    say(result.matched ? 'MATCHED' : 'NOT MATCHED');
    return result.matched ? EXIT.ok : EXIT.failure;
  } catch (err) {
    if (err instanceof ConditionError) throw new CliError(`Invalid condition: ${err.message}`, EXIT.usage);
    throw err;
  }
}
