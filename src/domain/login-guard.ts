// Brute-force protection for logins: failures are counted per account and per client IP in
// Redis; past a threshold each further failure locks that key for an escalating time
// (1 s, 2 s, 4 s … capped), and a locked key refuses attempts before any password check.
import { AppError } from '../core/errors.js';
import type { DomainDeps } from './deps.js';

const WINDOW_SECONDS = 15 * 60;
const MAX_LOCK_SECONDS = 15 * 60;
export const ACCOUNT_FREE_FAILURES = 5;
export const IP_FREE_FAILURES = 20;

type GuardDeps = Pick<DomainDeps, 'redis' | 'keys'>;

export interface LoginSubject {
  /** Project id, or "admin" for super admins. */
  scope: string;
  email: string;
  ip: string;
}

const counters = (deps: GuardDeps, s: LoginSubject) => [
  { key: deps.keys.system('login', 'account', s.scope, s.email.toLowerCase()), free: ACCOUNT_FREE_FAILURES },
  { key: deps.keys.system('login', 'ip', s.ip), free: IP_FREE_FAILURES },
];

export class LoginLockedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'login_locked', `Too many failed logins; try again in ${retryAfterSeconds} s`, undefined, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}

/** Throws LoginLockedError while the account or the IP is locked. */
export async function assertLoginAllowed(deps: GuardDeps, subject: LoginSubject): Promise<void> {
  const ttls = await Promise.all(counters(deps, subject).map(({ key }) => deps.redis.pttl(`${key}:lock`)));
  const longest = Math.max(...ttls);
  if (longest > 0) throw new LoginLockedError(Math.ceil(longest / 1000));
}

/** Counts a failure; returns the lock it caused, if any, in seconds. */
export async function recordLoginFailure(deps: GuardDeps, subject: LoginSubject): Promise<number> {
  let lockSeconds = 0;
  for (const { key, free } of counters(deps, subject)) {
    const [[, failures]] = (await deps.redis.multi().incr(key).expire(key, WINDOW_SECONDS).exec()) as [
      [null, number],
    ];
    if (failures >= free) {
      const seconds = Math.min(2 ** (failures - free), MAX_LOCK_SECONDS);
      await deps.redis.set(`${key}:lock`, '1', 'EX', seconds);
      lockSeconds = Math.max(lockSeconds, seconds);
    }
  }
  return lockSeconds;
}

export async function clearLoginFailures(deps: GuardDeps, subject: LoginSubject): Promise<void> {
  await deps.redis.del(counters(deps, subject)[0]!.key);
}
