// Restart policies as Docker applies them: no, on-failure[:N], always, unless-stopped; the delay between
// restarts starts at 100 ms and doubles, capped at a minute, and starts over once a run lasted 10 s.
import type { RestartPolicySpec } from './create-spec.ts';

export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
/** A run this long resets the backoff. */
export const BACKOFF_RESET_AFTER_MS = 10_000;

export interface RestartDecision {
  readonly restart: boolean;
  /** the wait before the restart */
  readonly delayMs: number;
}

export interface RunOutcome {
  readonly exitCode: number;
  /** the user stopped or killed it */
  readonly manuallyStopped: boolean;
  /** restarts made so far in this series */
  readonly restartCount: number;
  /** how long the run lasted */
  readonly ranMs: number;
  /** the last delay used (0: none yet) */
  readonly previousDelayMs: number;
}

/** Whether the policy restarts a container after this run ended, and after how long. */
export function decideRestart(policy: RestartPolicySpec | undefined, outcome: RunOutcome): RestartDecision {
  const name = policy?.Name || 'no';
  const wanted = (() => {
    if (outcome.manuallyStopped) return false;
    switch (name) {
      case 'always':
      case 'unless-stopped':
        return true;
      case 'on-failure': {
        const max = policy?.MaximumRetryCount ?? 0;
        return outcome.exitCode !== 0 && (max === 0 || outcome.restartCount < max);
      }
      default:
        return false;
    }
  })();
  if (!wanted) return { restart: false, delayMs: 0 };
  const delayMs =
    outcome.ranMs >= BACKOFF_RESET_AFTER_MS || outcome.previousDelayMs === 0
      ? BACKOFF_START_MS
      : Math.min(outcome.previousDelayMs * 2, BACKOFF_MAX_MS);
  return { restart: true, delayMs };
}

/**
 * Whether a container comes back when the agent starts on a freshly booted node: `always` (even one the user
 * stopped, as Docker does at daemon start), `unless-stopped` unless the user stopped it.
 */
export function restartsAtBoot(policy: RestartPolicySpec | undefined, manuallyStopped: boolean): boolean {
  const name = policy?.Name || 'no';
  return name === 'always' || (name === 'unless-stopped' && !manuallyStopped);
}
