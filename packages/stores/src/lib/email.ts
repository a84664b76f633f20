/**
 * The form an email address is stored and looked up in: NFKC, then case-folded. Folding is
 * lower-, upper- then lower-casing, which applies Unicode's full case folding where plain
 * lower-casing does not (`ß` → `ss`, final `ς` → `σ`), then NFKC again, since case mapping can
 * leave a string that NFKC would still change. Trimming and syntax checks are the caller's.
 *
 * Defined here because the stored form is the stores' concern: a migration re-keys stored
 * addresses when this changes, and every caller looks up by exactly this form.
 */
export function foldEmail(email: string): string {
  // toLowerCase turns Σ into the final form ς before a non-letter (as in "ΟΔΟΣ@…"); folding has one σ.
  // Lower-cased first, so capital ẞ (which upper-cases to itself) becomes ß and then ss, the same
  // as ß does: folding an already folded address changes nothing.
  return email.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().replaceAll('ς', 'σ').normalize('NFKC');
}
