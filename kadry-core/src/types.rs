//! Validated value types ("parse, don't validate").
//!
//! Each type here can only be obtained through its `parse` function (or
//! [`FromStr`], `TryFrom<String>`, or serde deserialisation, which all call
//! `parse`), so holding a value is proof that it is well formed.
//!
//! - [`Email`]: an e-mail address, compared case-insensitively.
//! - [`Snils`]: a СНИЛС (individual insurance account number), checksum
//!   verified.
//! - [`FullName`]: a Russian full name `"Фамилия Имя [Отчество]"`.
//!
//! Error values describe *what* is wrong but never repeat the input, so that
//! personal data does not end up in logs through error messages.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Implements the string conversions shared by all types of this module:
/// `Display`, `AsRef<str>`, `FromStr`, `TryFrom<String>`, `TryFrom<&str>`
/// and `From<T> for String`.
macro_rules! string_conversions {
    ($ty:ident, $err:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl FromStr for $ty {
            type Err = $err;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $err;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = $err;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.as_str().to_owned()
            }
        }
    };
}

// ---------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------

/// The longest accepted e-mail address, in characters.
const EMAIL_MAX_LEN: usize = 254;

/// A syntactically valid e-mail address.
///
/// [`Email::parse`] trims surrounding whitespace and then requires:
/// exactly one `@`; a non-empty local part without whitespace or control
/// characters; a domain of at least two dot-separated labels, none empty,
/// each made of letters, digits and `-` (not at either end of a label;
/// internationalised domains such as `школа.рф` are accepted); at most 254
/// characters in total.
///
/// The address keeps its original spelling for display ([`Email::as_str`],
/// `Display`, serialisation), while identity is case-insensitive:
/// `PartialEq` and `Hash` compare [`Email::key`], the lowercase form.
///
/// ```
/// use kadry_core::types::Email;
///
/// let a = Email::parse(" Ivanova@Example.ru ").unwrap();
/// let b = Email::parse("ivanova@example.ru").unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a.as_str(), "Ivanova@Example.ru");
/// assert_eq!(a.key(), "ivanova@example.ru");
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email {
    /// As given, trimmed.
    original: String,
    /// Lowercase form, the identity.
    key: String,
}

/// Why a string is not an [`Email`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// The input is empty or only whitespace.
    #[error("e-mail address is empty")]
    Empty,
    /// The input is not a valid e-mail address; the payload says why.
    #[error("malformed e-mail address: {0}")]
    Malformed(String),
}

impl Email {
    /// Parses an e-mail address; see the [type documentation](Email) for the
    /// rules.
    ///
    /// # Errors
    ///
    /// [`EmailError::Empty`] for an empty or blank input,
    /// [`EmailError::Malformed`] for anything else that breaks the rules.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        let malformed = |why: &str| Err(EmailError::Malformed(why.to_owned()));
        if s.chars().count() > EMAIL_MAX_LEN {
            return malformed("longer than 254 characters");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return malformed("missing '@'");
        };
        if domain.contains('@') {
            return malformed("more than one '@'");
        }
        if local.is_empty() {
            return malformed("empty local part");
        }
        if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return malformed("whitespace or control character in local part");
        }
        if domain.is_empty() {
            return malformed("empty domain");
        }
        if !domain.contains('.') {
            return malformed("domain has no '.'");
        }
        for label in domain.split('.') {
            if label.is_empty() {
                return malformed("empty domain label");
            }
            if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
                return malformed("domain labels may only contain letters, digits and '-'");
            }
            if label.starts_with('-') || label.ends_with('-') {
                return malformed("domain label starts or ends with '-'");
            }
        }
        Ok(Self { original: s.to_owned(), key: s.to_lowercase() })
    }

    /// The address as given (surrounding whitespace removed).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The lowercase form of the address: the identity used by `PartialEq`
    /// and `Hash`, and the key to store and look addresses up by.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Email {}

impl Hash for Email {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Email").field(&self.original).finish()
    }
}

string_conversions!(Email, EmailError);

// ---------------------------------------------------------------------------
// Snils
// ---------------------------------------------------------------------------

/// Numbers whose first nine digits are at most this carry no checksum.
const SNILS_UNCHECKED_MAX: u32 = 1_001_998;

/// A СНИЛС, the individual insurance account number: 11 digits whose last
/// two are a checksum of the first nine.
///
/// [`Snils::parse`] accepts exactly two spellings, with optional surrounding
/// whitespace: the canonical `"112-233-445 95"` and the bare
/// `"11223344595"`. The checksum is verified: weights 9, 8, …, 1 over the
/// first nine digits give a sum `S`; the check number is
/// `(S mod 101) mod 100`. Numbers whose first nine digits are at most
/// `001-001-998` predate the checksum and are accepted with any check digits.
///
/// Both spellings give equal values. [`Snils::as_str`], `Display` and
/// serialisation use the canonical form; [`Snils::digits`] gives the bare
/// digits.
///
/// ```
/// use kadry_core::types::Snils;
///
/// let a = Snils::parse("112-233-445 95").unwrap();
/// let b = Snils::parse("11223344595").unwrap();
/// assert_eq!(a, b);
/// assert_eq!(b.as_str(), "112-233-445 95");
/// assert_eq!(a.digits(), "11223344595");
/// assert!(Snils::parse("112-233-445 96").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Snils {
    /// The 11 ASCII digits.
    digits: String,
    /// "XXX-XXX-XXX YY", derived from `digits`.
    canonical: String,
}

/// Why a string is not a [`Snils`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SnilsError {
    /// Neither `"XXX-XXX-XXX YY"` nor 11 bare digits.
    #[error("SNILS must be 11 digits, written as \"XXX-XXX-XXX YY\" or \"XXXXXXXXXXX\"")]
    Format,
    /// Well formed, but the check digits do not match.
    #[error("SNILS check digits do not match")]
    Checksum,
}

impl Snils {
    /// Parses a СНИЛС; see the [type documentation](Snils) for the accepted
    /// spellings and the checksum.
    ///
    /// # Errors
    ///
    /// [`SnilsError::Format`] when the input is in neither spelling,
    /// [`SnilsError::Checksum`] when the check digits are wrong.
    pub fn parse(input: &str) -> Result<Self, SnilsError> {
        let s = input.trim().as_bytes();
        let is_digit_at = |i: usize| s[i].is_ascii_digit();
        let digits: Vec<u8> = match s.len() {
            11 if s.iter().all(u8::is_ascii_digit) => s.to_vec(),
            14 if s[3] == b'-'
                && s[7] == b'-'
                && s[11] == b' '
                && (0..14).filter(|i| ![3, 7, 11].contains(i)).all(is_digit_at) =>
            {
                s.iter().copied().filter(u8::is_ascii_digit).collect()
            }
            _ => return Err(SnilsError::Format),
        };
        let values: Vec<u32> = digits.iter().map(|b| u32::from(b - b'0')).collect();
        let number = values[..9].iter().fold(0, |acc, v| acc * 10 + v);
        let check = values[9] * 10 + values[10];
        if number > SNILS_UNCHECKED_MAX && check != snils_check(&values[..9]) {
            return Err(SnilsError::Checksum);
        }
        let digits: String = digits.iter().map(|&b| char::from(b)).collect();
        let canonical = format!("{}-{}-{} {}", &digits[0..3], &digits[3..6], &digits[6..9], &digits[9..11]);
        Ok(Self { digits, canonical })
    }

    /// The canonical spelling, `"XXX-XXX-XXX YY"`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The 11 digits without separators, e.g. `"11223344595"`.
    #[must_use]
    pub fn digits(&self) -> &str {
        &self.digits
    }
}

/// The check number of the first nine digits (each 0–9).
fn snils_check(first_nine: &[u32]) -> u32 {
    let sum: u32 = first_nine.iter().zip((1..=9).rev()).map(|(d, w)| d * w).sum();
    (sum % 101) % 100
}

string_conversions!(Snils, SnilsError);

// ---------------------------------------------------------------------------
// FullName
// ---------------------------------------------------------------------------

/// The longest accepted full name, in characters after normalisation.
const NAME_MAX_LEN: usize = 200;

/// A person's full name in Russian order: `"Фамилия Имя [Отчество]"`.
///
/// [`FullName::parse`] trims the input and collapses inner whitespace runs
/// to a single space, then requires 2 to 4 words of at most 200 characters
/// in total. Each word consists of letters of any alphabet (Cyrillic
/// including `ё`, Latin, …), optionally joined by a hyphen or an apostrophe
/// (`'` or `’`) between letters: "Салтыков-Щедрин", "Д'Артаньян".
///
/// The first word is the surname, the second the given name, and the rest
/// (one or two words, e.g. "Рафаэль оглы") the patronymic. Comparison is
/// exact on the normalised form.
///
/// ```
/// use kadry_core::types::FullName;
///
/// let name = FullName::parse("  Иванова   Мария Петровна ").unwrap();
/// assert_eq!(name.as_str(), "Иванова Мария Петровна");
/// assert_eq!(name.surname(), "Иванова");
/// assert_eq!(name.given_name(), "Мария");
/// assert_eq!(name.patronymic(), Some("Петровна"));
/// assert_eq!(name.masked(), "Иванова М. П.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FullName {
    /// Normalised: words separated by single spaces.
    full: String,
}

/// Why a string is not a [`FullName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The input is empty or only whitespace.
    #[error("full name is empty")]
    Empty,
    /// The input is not a valid full name; the payload says why.
    #[error("malformed full name: {0}")]
    Malformed(String),
}

impl FullName {
    /// Parses a full name; see the [type documentation](FullName) for the
    /// rules.
    ///
    /// # Errors
    ///
    /// [`NameError::Empty`] for an empty or blank input,
    /// [`NameError::Malformed`] for anything else that breaks the rules.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let words: Vec<&str> = input.split_whitespace().collect();
        if words.is_empty() {
            return Err(NameError::Empty);
        }
        let malformed = |why: &str| Err(NameError::Malformed(why.to_owned()));
        if words.len() < 2 {
            return malformed("expected a surname and a given name");
        }
        if words.len() > 4 {
            return malformed("more than 4 words");
        }
        if let Some(word) = words.iter().find(|w| !is_name_word(w)) {
            let why = if word.chars().any(|c| c.is_numeric()) {
                "digits are not allowed"
            } else {
                "a word must be letters, optionally joined by one hyphen or apostrophe"
            };
            return malformed(why);
        }
        let full = words.join(" ");
        if full.chars().count() > NAME_MAX_LEN {
            return malformed("longer than 200 characters");
        }
        Ok(Self { full })
    }

    /// The normalised full name, e.g. `"Иванова Мария Петровна"`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The surname (фамилия), the first word.
    #[must_use]
    pub fn surname(&self) -> &str {
        self.parts().0
    }

    /// The given name (имя), the second word.
    #[must_use]
    pub fn given_name(&self) -> &str {
        self.parts().1
    }

    /// The patronymic (отчество), the remaining one or two words, if any.
    #[must_use]
    pub fn patronymic(&self) -> Option<&str> {
        self.parts().2
    }

    /// The surname followed by initials, e.g. `"Иванова М. П."` or, without a
    /// patronymic, `"Smith J."`. Initials are upper-cased.
    #[must_use]
    pub fn masked(&self) -> String {
        let (surname, given, patronymic) = self.parts();
        let mut out = String::with_capacity(surname.len() + 8);
        out.push_str(surname);
        for part in std::iter::once(given).chain(patronymic) {
            if let Some(initial) = part.chars().next() {
                out.push(' ');
                out.extend(initial.to_uppercase());
                out.push('.');
            }
        }
        out
    }

    fn parts(&self) -> (&str, &str, Option<&str>) {
        let mut it = self.full.splitn(3, ' ');
        // `parse` guarantees at least two non-empty words.
        let surname = it.next().unwrap_or_default();
        let given = it.next().unwrap_or_default();
        (surname, given, it.next())
    }
}

/// Letters, with single hyphens or apostrophes between letters.
fn is_name_word(word: &str) -> bool {
    let mut previous_was_letter = false;
    for c in word.chars() {
        if c.is_alphabetic() {
            previous_was_letter = true;
        } else if matches!(c, '-' | '\'' | '’') && previous_was_letter {
            previous_was_letter = false;
        } else {
            return false;
        }
    }
    previous_was_letter
}

string_conversions!(FullName, NameError);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    // --- Email ---------------------------------------------------------

    #[test]
    fn email_accepts_valid_addresses() {
        for s in [
            "ivanova@example.ru",
            "i.ivanova+kpk@mail.school-12.kazan.ru",
            "user_1@sub.example.com",
            "директор@школа.рф",
            "a@b.co",
            "O'Brien@example.org",
        ] {
            let e = Email::parse(s).unwrap_or_else(|err| panic!("{s}: {err}"));
            assert_eq!(e.as_str(), s);
            assert_eq!(e.to_string(), s);
        }
    }

    #[test]
    fn email_trims_and_keeps_spelling() {
        let e = Email::parse("  Ivanova@Example.RU\t\n").unwrap();
        assert_eq!(e.as_str(), "Ivanova@Example.RU");
        assert_eq!(e.key(), "ivanova@example.ru");
        let e = Email::parse("Директор@Школа.РФ").unwrap();
        assert_eq!(e.key(), "директор@школа.рф");
    }

    #[test]
    fn email_identity_is_case_insensitive() {
        let a = Email::parse("Ivanova@Example.ru").unwrap();
        let b = Email::parse("ivanova@example.ru").unwrap();
        let c = Email::parse("petrova@example.ru").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let set: HashSet<Email> = [a, b, c].into_iter().collect();
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn email_rejects_empty() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("   \t"), Err(EmailError::Empty));
    }

    #[test]
    fn email_rejects_malformed() {
        let long_local = format!("{}@example.ru", "a".repeat(244));
        assert_eq!(long_local.len(), 255);
        for s in [
            "ivanova",
            "ivanova.example.ru",
            "a@b@example.ru",
            "@example.ru",
            "iva nova@example.ru",
            "ivanova@",
            "ivanova@localhost",
            "ivanova@example..ru",
            "ivanova@.example.ru",
            "ivanova@example.ru.",
            "ivanova@exa mple.ru",
            "ivanova@exam_ple.ru",
            "ivanova@-example.ru",
            "ivanova@example-.ru",
            "iva\u{0}nova@example.ru",
            long_local.as_str(),
        ] {
            assert!(matches!(Email::parse(s), Err(EmailError::Malformed(_))), "{s:?} should be malformed");
        }
        let ok = format!("{}@example.ru", "a".repeat(243));
        assert_eq!(ok.len(), 254);
        assert!(Email::parse(&ok).is_ok());
    }

    #[test]
    fn email_errors_do_not_echo_the_input() {
        let err = Email::parse("secret person@example.ru").unwrap_err();
        assert!(!err.to_string().contains("secret"));
        assert_eq!(EmailError::Empty.to_string(), "e-mail address is empty");
    }

    #[test]
    fn email_serde_goes_through_parse() {
        let e = Email::parse(" Ivanova@Example.ru").unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, "\"Ivanova@Example.ru\"");
        let back: Email = serde_json::from_str(&json).unwrap();
        assert_eq!(back.as_str(), "Ivanova@Example.ru");
        assert_eq!(back, e);
        assert!(serde_json::from_str::<Email>("\"not an email\"").is_err());
        assert!(serde_json::from_str::<Email>("\"\"").is_err());
        assert!(serde_json::from_str::<Email>("42").is_err());
        let parsed: Email = "a@b.ru".parse().unwrap();
        assert_eq!(String::from(parsed), "a@b.ru");
    }

    // --- Snils ---------------------------------------------------------

    #[test]
    fn snils_accepts_valid_numbers() {
        for (s, canonical) in [
            ("112-233-445 95", "112-233-445 95"),
            ("342-932-447 76", "342-932-447 76"),
            ("123-456-789 64", "123-456-789 64"),
            ("12345678964", "123-456-789 64"),
            ("  11223344595\n", "112-233-445 95"),
        ] {
            let n = Snils::parse(s).unwrap_or_else(|err| panic!("{s}: {err}"));
            assert_eq!(n.as_str(), canonical);
            assert_eq!(n.to_string(), canonical);
            assert_eq!(n.digits(), canonical.replace(['-', ' '], ""));
        }
    }

    #[test]
    fn snils_both_spellings_are_equal() {
        let a = Snils::parse("123-456-789 64").unwrap();
        let b = Snils::parse("12345678964").unwrap();
        assert_eq!(a, b);
        let set: HashSet<Snils> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn snils_rejects_bad_checksum() {
        assert_eq!(Snils::parse("112-233-445 96"), Err(SnilsError::Checksum));
        assert_eq!(Snils::parse("11223344596"), Err(SnilsError::Checksum));
        assert_eq!(Snils::parse("123-456-789 00"), Err(SnilsError::Checksum));
    }

    #[test]
    fn snils_rejects_bad_format() {
        for s in [
            "",
            "   ",
            "112-233-44595x",
            "112-233-44595",
            "1122334459",
            "112233445950",
            "112 233 445 95",
            "112-233-445-95",
            "112233445 95",
            "112-233-445  95",
            "1122334459x",
            "١١٢٢٣٣٤٤٥٩٥", // Arabic-Indic digits
            "112-233-445 9",
            "112-233-445 95 0",
        ] {
            assert_eq!(Snils::parse(s), Err(SnilsError::Format), "{s:?}");
        }
    }

    #[test]
    fn snils_checksum_edge_cases() {
        // Numbers up to 001-001-998 carry no check: any check digits pass.
        assert!(Snils::parse("001-001-998 00").is_ok());
        assert!(Snils::parse("001-001-998 99").is_ok());
        assert!(Snils::parse("000-000-000 00").is_ok());
        // From 001-001-999 on the check applies: 1*7 + 1*4 + 9*3 + 9*2 + 9*1 = 65.
        assert!(Snils::parse("001-001-999 65").is_ok());
        assert_eq!(Snils::parse("001-001-999 00"), Err(SnilsError::Checksum));
        // Sums below 100 are the check itself; 100 and 101 give 00; larger
        // sums are taken mod 101 (and a remainder of 100 gives 00 again).
        assert_eq!(snils_check(&[9, 2, 0, 0, 0, 0, 0, 0, 2]), 99);
        assert_eq!(snils_check(&[9, 2, 0, 0, 0, 0, 0, 0, 3]), 0);
        assert_eq!(snils_check(&[9, 2, 0, 0, 0, 0, 0, 0, 4]), 0);
        assert_eq!(snils_check(&[9, 2, 0, 0, 0, 0, 0, 0, 5]), 1);
        assert_eq!(snils_check(&[9, 9, 6, 0, 0, 0, 0, 0, 6]), 0);
        assert_eq!(snils_check(&[9, 9, 9, 9, 9, 9, 9, 9, 9]), 405 % 101);
        assert!(Snils::parse("920-000-003 00").is_ok());
        assert!(Snils::parse("920-000-004 00").is_ok());
        assert!(Snils::parse("996-000-006 00").is_ok());
    }

    #[test]
    fn snils_serde_goes_through_parse() {
        let n = Snils::parse("11223344595").unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"112-233-445 95\"");
        assert_eq!(serde_json::from_str::<Snils>(&json).unwrap(), n);
        assert_eq!(serde_json::from_str::<Snils>("\"11223344595\"").unwrap(), n);
        assert!(serde_json::from_str::<Snils>("\"112-233-445 96\"").is_err());
        assert!(serde_json::from_str::<Snils>("11223344595").is_err());
    }

    // --- FullName --------------------------------------------------------

    #[test]
    fn name_accepts_valid_names() {
        let n = FullName::parse("Иванова Мария Петровна").unwrap();
        assert_eq!(n.surname(), "Иванова");
        assert_eq!(n.given_name(), "Мария");
        assert_eq!(n.patronymic(), Some("Петровна"));
        assert_eq!(n.masked(), "Иванова М. П.");

        let n = FullName::parse("Ёлкин Пётр").unwrap();
        assert_eq!(n.patronymic(), None);
        assert_eq!(n.masked(), "Ёлкин П.");

        let n = FullName::parse("Салтыков-Щедрин Михаил Евграфович").unwrap();
        assert_eq!(n.surname(), "Салтыков-Щедрин");

        let n = FullName::parse("Алиев Руслан Рафаэль оглы").unwrap();
        assert_eq!(n.patronymic(), Some("Рафаэль оглы"));
        assert_eq!(n.masked(), "Алиев Р. Р.");

        for s in [
            "Д'Артаньян Шарль",
            "Д’Артаньян Шарль",
            "Smith John",
            "Гарипова Гүзәл Илдаровна",
            "Анна-Мария Петрова-Водкина Ивановна",
        ] {
            let n = FullName::parse(s).unwrap_or_else(|err| panic!("{s}: {err}"));
            assert_eq!(n.as_str(), s);
            assert_eq!(n.to_string(), s);
        }
    }

    #[test]
    fn name_normalises_whitespace() {
        let n = FullName::parse(" \t Иванова   Мария\u{a0}\nПетровна  ").unwrap();
        assert_eq!(n.as_str(), "Иванова Мария Петровна");
        assert_eq!(n, FullName::parse("Иванова Мария Петровна").unwrap());
    }

    #[test]
    fn name_masks_lowercase_initials() {
        let n = FullName::parse("иванова мария петровна").unwrap();
        assert_eq!(n.masked(), "иванова М. П.");
    }

    #[test]
    fn name_rejects_empty() {
        assert_eq!(FullName::parse(""), Err(NameError::Empty));
        assert_eq!(FullName::parse(" \n\t "), Err(NameError::Empty));
    }

    #[test]
    fn name_rejects_malformed() {
        let long = format!("{} Мария", "И".repeat(195));
        assert_eq!(long.chars().count(), 201);
        for s in [
            "Иванова",
            "Иванова Мария Петровна Ивановна Сидорова",
            "Иванова Мария2 Петровна",
            "Иванова -Мария",
            "Иванова Мария-",
            "Иванова Ма--рия",
            "Иванова Ма-'рия",
            "Иванова М.",
            "Иванова Мария, Петровна",
            "' '",
            "- -",
            "Иванова Мария_Петровна",
            long.as_str(),
        ] {
            assert!(matches!(FullName::parse(s), Err(NameError::Malformed(_))), "{s:?} should be malformed");
        }
        let ok = format!("{} Мария", "И".repeat(194));
        assert!(FullName::parse(&ok).is_ok());
    }

    #[test]
    fn name_serde_goes_through_parse() {
        let n = FullName::parse("Иванова  Мария").unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"Иванова Мария\"");
        assert_eq!(serde_json::from_str::<FullName>(&json).unwrap(), n);
        assert_eq!(serde_json::from_str::<FullName>("\"  Иванова\\tМария \"").unwrap(), n);
        assert!(serde_json::from_str::<FullName>("\"Иванова\"").is_err());
    }

    // --- properties ------------------------------------------------------

    fn canonical_snils(first_nine: u32) -> String {
        let nine = format!("{first_nine:09}");
        let values: Vec<u32> = nine.chars().map(|c| c.to_digit(10).unwrap()).collect();
        let check = snils_check(&values);
        format!("{}-{}-{} {check:02}", &nine[0..3], &nine[3..6], &nine[6..9])
    }

    fn email_strategy() -> impl Strategy<Value = String> {
        ("[a-zA-Z0-9._%+'-]{1,20}", prop::collection::vec("[a-zA-Z0-9а-яА-ЯёЁ]{1,10}", 2..4))
            .prop_map(|(local, labels)| format!("{local}@{}", labels.join(".")))
    }

    proptest! {
        #[test]
        fn snils_round_trips_through_canonical_form(first_nine in 0u32..1_000_000_000) {
            let canonical = canonical_snils(first_nine);
            let parsed = Snils::parse(&canonical).unwrap();
            prop_assert_eq!(parsed.as_str(), canonical.as_str());
            let bare = Snils::parse(parsed.digits()).unwrap();
            prop_assert_eq!(&bare, &parsed);
            let shown = parsed.to_string();
            prop_assert_eq!(Snils::parse(&shown).unwrap(), parsed);
        }

        #[test]
        fn snils_wrong_check_digits_are_rejected(
            first_nine in (SNILS_UNCHECKED_MAX + 1)..1_000_000_000,
            delta in 1u32..100,
        ) {
            let canonical = canonical_snils(first_nine);
            let check: u32 = canonical[12..].parse().unwrap();
            let wrong = format!("{}{:02}", &canonical[..12], (check + delta) % 100);
            prop_assert_eq!(Snils::parse(&wrong), Err(SnilsError::Checksum));
        }

        #[test]
        fn email_key_is_idempotent_under_case_changes(s in email_strategy()) {
            let e = Email::parse(&s).unwrap();
            let upper = Email::parse(&s.to_uppercase()).unwrap();
            let lower = Email::parse(&s.to_lowercase()).unwrap();
            prop_assert_eq!(upper.key(), e.key());
            prop_assert_eq!(lower.key(), e.key());
            let again = Email::parse(e.key()).unwrap();
            prop_assert_eq!(again.key(), e.key());
            prop_assert_eq!(&upper, &e);
            prop_assert_eq!(e.as_str(), s.as_str());
        }

        #[test]
        fn parsers_never_panic(s in any::<String>()) {
            let _ = Email::parse(&s);
            let _ = Snils::parse(&s);
            if let Ok(name) = FullName::parse(&s) {
                prop_assert!(name.as_str().chars().count() <= NAME_MAX_LEN);
                let reparsed = FullName::parse(name.as_str());
                prop_assert_eq!(reparsed.as_ref(), Ok(&name));
                let _ = name.masked();
                prop_assert!(name.patronymic().is_none() || name.as_str().split(' ').count() >= 3);
            }
        }

        #[test]
        fn full_name_never_panics_on_wordy_input(
            s in "[ \t\u{a0}a-zA-Zа-яА-ЯёЁ'’.,0-9-]{0,60}"
        ) {
            if let Ok(name) = FullName::parse(&s) {
                let reparsed = FullName::parse(name.as_str()).unwrap();
                prop_assert_eq!(&reparsed, &name);
                prop_assert!(!name.surname().is_empty());
                prop_assert!(!name.given_name().is_empty());
                let masked = name.masked();
                prop_assert!(masked.starts_with(name.surname()));
            }
        }
    }
}
