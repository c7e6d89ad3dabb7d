// A minimal event producer: POSTs one event to Tocsin with the project's API key.
//
//   TOCSIN_API_KEY=… npx tsx examples/producer.ts [type] [payload-json]
//   TOCSIN_API_KEY=… npx tsx examples/producer.ts transfer.failed '{"amount": 12000}'
//
// TOCSIN_URL defaults to http://localhost:3000. Exit code 0 once the event is accepted (202).
import { randomUUID } from 'node:crypto';

const url = (process.env.TOCSIN_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const [type = 'transfer.failed', payloadJson = '{"amount": 12000}'] = process.argv.slice(2);

function fail(message: string): never {
  console.error(`producer: ${message}`);
  process.exit(1);
}

const apiKey =
  process.env.TOCSIN_API_KEY ??
  fail('set TOCSIN_API_KEY to the project API key (tocsin project create prints it)');
let payload: unknown;
try {
  payload = JSON.parse(payloadJson);
} catch {
  fail(`the payload is not JSON: ${payloadJson}`);
}

// One key for every attempt: if an attempt reached Tocsin but its answer was lost, the retry is
// answered with the first id instead of queueing the event twice.
const idempotencyKey = randomUUID();

async function send(attempts = 3): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${url}/api/v1/events`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-API-Key': apiKey,
          'Idempotency-Key': idempotencyKey,
        },
        body: JSON.stringify({ type, payload }),
      });
      // Only an overloaded or failing server is worth another try; any other answer is final.
      if ((res.status < 500 && res.status !== 429) || attempt === attempts) return res;
    } catch (err) {
      const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
      if (attempt === attempts) fail(`cannot reach ${url}: ${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
}

const res = await send();
const text = await res.text();
if (!res.ok) {
  // Tocsin's errors are { error: { code, message, requestId } }.
  let detail = text;
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string; requestId: string } };
    detail = `${error.code}: ${error.message} (request ${error.requestId})`;
  } catch {
    // not Tocsin's JSON (a proxy's page): show it as it came
  }
  fail(`${res.status} ${res.statusText} — ${detail}`);
}
const { id } = JSON.parse(text) as { id: string };
const replayed = res.headers.get('Idempotent-Replayed') === 'true' ? ' (already accepted earlier)' : '';
console.log(`${res.status} accepted event ${id}${replayed}`);
