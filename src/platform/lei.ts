/**
 * Legal Entity Identifiers (ISO 17442): 18 upper-case alphanumerics then two check digits,
 * verified like an IBAN with ISO 7064 MOD 97-10 (letters become 10–35; the whole number mod 97
 * must be 1). Catches every single-character typo and nearly every transposition.
 */
const LEI_FORMAT = /^[0-9A-Z]{18}[0-9]{2}$/;

export function isValidLei(value: string): boolean {
  if (!LEI_FORMAT.test(value)) return false;
  let remainder = 0;
  for (const char of value) {
    const digits = Number.parseInt(char, 36).toString();
    for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}
