/**
 * Chaos scenarios that reproduce a defect of issue 11 still being fixed on another branch. They are skipped (with the
 * reason in the test name) until the fix is merged; then the lead removes the entry. `CHAOS_RUN_KNOWN_DEFECTS=1` runs
 * them anyway, to see them fail before the fix and pass after.
 */
export const KNOWN_DEFECTS: Readonly<Record<string, string>> = {
};

/** `it`, or `it.skip` with the reason appended to the name while `key` is a known defect. */
export function itUnlessKnownDefect(key: string): { name: (title: string) => string; run: typeof it } {
  const reason = KNOWN_DEFECTS[key];
  if (reason === undefined || process.env['CHAOS_RUN_KNOWN_DEFECTS'] === '1') return { name: (title) => title, run: it };
  return { name: (title) => `${title} [skipped, KNOWN_DEFECTS: ${reason}]`, run: it.skip };
}
