/** A UUID as PostgreSQL writes it (lower case): an id in a cursor is nothing else, so it never fails in the database. */
export const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The text inside a cursor this service issued, or undefined when the string is not one. Cursors are
 * base64url without padding, and Node decodes base64url leniently: it skips characters outside the alphabet,
 * takes `=` padding and the `+` and `/` of standard base64. So the text counts only when encoding it again
 * gives the string back — a mistyped or tampered cursor is refused rather than read as another one.
 */
export function cursorText(cursor: string): string | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return Buffer.from(text, 'utf8').toString('base64url') === cursor ? text : undefined;
}
