/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string is not well-formed UTF-16 (it cannot be encoded as UTF-8 unchanged). */
export const hasLoneSurrogate = (value: string) => LONE_SURROGATE.test(value);

/**
 * Why a string cannot be stored as PostgreSQL text unchanged, or undefined when it can: text cannot hold
 * NUL (the write fails), and a lone surrogate would be stored as U+FFFD (every re-sync would differ).
 */
export function badTextReason(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character (U+0000), which is not accepted';
  if (LONE_SURROGATE.test(value)) return 'contains a lone surrogate (invalid Unicode), which is not accepted';
  return undefined;
}
