/**
 * The form an email address is stored and looked up in: NFKC, then case-folded. Folding is
 * upper-casing then lower-casing, which applies Unicode's full case folding where plain
 * lower-casing does not (`ß` → `ss`, final `ς` → `σ`), then NFKC again, since case mapping can
 * leave a string that NFKC would still change. Trimming and syntax checks are the caller's.
 *
 * Defined here because the stored form is the stores' concern: a migration re-keys stored
 * addresses when this changes, and every caller looks up by exactly this form.
 */
export function foldEmail(email: string): string {
  // toLowerCase turns Σ into the final form ς before a non-letter (as in "ΟΔΟΣ@…"); folding has one σ.
  return email.normalize('NFKC').toUpperCase().toLowerCase().replaceAll('ς', 'σ').normalize('NFKC');
}
