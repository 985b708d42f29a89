import { ruleViolation } from '../errors.js';
import type { Candidate, StoredRow, Transition } from './definition.js';

/**
 * Refuses a write that moves a field along a transition its collection does not allow, with the previous
 * version at hand: staying put is always allowed; a create may start only at an `initial` value (when
 * given); a refusal lists where the field may go from its stored value.
 */
export function checkTransitions(transitions: readonly Transition[], candidate: Candidate, previous: StoredRow | undefined) {
  for (const transition of transitions) {
    const next = candidate[transition.field];
    if (typeof next !== 'string') continue;
    if (!previous) {
      if (transition.initial && !transition.initial.includes(next)) {
        throw ruleViolation(
          `/${transition.field}`,
          `A new record cannot start at ${transition.field} ${next}; it starts at ${transition.initial.join(' or ')}.`,
        );
      }
      continue;
    }
    const from = previous[transition.field];
    if (typeof from !== 'string' || from === next) continue;
    const allowed = transition.next[from] ?? [];
    if (!allowed.includes(next)) {
      throw ruleViolation(
        `/${transition.field}`,
        `${transition.field} cannot move from ${from} to ${next}; from ${from} it can move to ${allowed.length > 0 ? allowed.join(', ') : 'nothing (it is final)'}.`,
      );
    }
  }
}
