//! PRC resident identity numbers (居民身份证号码, GB 11643-1999): 17 digits and a
//! check character (ISO 7064 MOD 11-2). Checked the same way on the phone and on
//! the server; the number itself is personal data and never appears in `Debug`
//! output or logs.

use serde::{Deserialize, Serialize};

/// Weights of the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character by `sum % 11`.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Why an identity number is not valid. Messages never repeat the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 18 characters.
    #[error("an ID number has 18 characters")]
    Length,
    /// A non-digit among the first 17, or a last character other than a digit or X.
    #[error("an ID number is 17 digits and a digit or X")]
    Characters,
    /// The birth date (characters 7 to 14) is not a real date.
    #[error("the birth date in the ID number is not a valid date")]
    BirthDate,
    /// The check character does not match.
    #[error("the ID number's check character does not match (a typing mistake?)")]
    Checksum,
}

/// The check character the first 17 digits call for.
pub fn check_char(first17: &str) -> Option<char> {
    let mut sum = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    (first17.chars().count() == 17).then(|| CHECK[(sum % 11) as usize])
}

/// Validates an 18-character identity number (a lowercase `x` is accepted).
pub fn validate(s: &str) -> Result<(), IdNumberError> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != 18 {
        return Err(IdNumberError::Length);
    }
    if !chars[..17].iter().all(|c| c.is_ascii_digit())
        || !(chars[17].is_ascii_digit() || matches!(chars[17], 'X' | 'x'))
    {
        return Err(IdNumberError::Characters);
    }
    let digits: String = chars[..17].iter().collect();
    let (y, m, d) = (&digits[6..10], &digits[10..12], &digits[12..14]);
    let date = match (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) {
        (Ok(y), Ok(m), Ok(d)) => chrono::NaiveDate::from_ymd_opt(y, m, d),
        _ => None,
    };
    if date.is_none() {
        return Err(IdNumberError::BirthDate);
    }
    if check_char(&digits) != Some(chars[17].to_ascii_uppercase()) {
        return Err(IdNumberError::Checksum);
    }
    Ok(())
}

/// A validated identity number, upper-case. Its `Debug` shows only the last four
/// characters, so a record printed to a log does not leak it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct IdNumber(String);

impl IdNumber {
    /// Validates and normalises (`x` → `X`).
    pub fn parse(s: &str) -> Result<IdNumber, IdNumberError> {
        let t = s.trim();
        validate(t)?;
        Ok(IdNumber(t.to_ascii_uppercase()))
    }

    /// The number (personal data: show it only to those who may see the household).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but its first three and last four characters hidden
    /// (`110***********002X`), for those who need to tell people apart but not
    /// to read the number ([`crate::model::permissions::sees_whole_id_numbers`]).
    pub fn masked(&self) -> String {
        let n = self.0.chars().count();
        self.0.chars().enumerate().map(|(i, c)| if i < 3 || i + 4 >= n { c } else { '*' }).collect()
    }
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail: String = self.0.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        write!(f, "IdNumber(**************{tail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_keeps_the_first_three_and_last_four() {
        assert_eq!(IdNumber::parse("11010519491231002x").unwrap().masked(), "110***********002X");
    }

    #[test]
    fn checks_the_standard_example_and_catches_typos() {
        // The example number of GB 11643-1999.
        assert_eq!(validate("11010519491231002X"), Ok(()));
        assert_eq!(validate("11010519491231002x"), Ok(()));
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert_eq!(validate("110105194912310021"), Err(IdNumberError::Checksum));
        // two digits swapped
        assert_eq!(validate("11010519491213002X"), Err(IdNumberError::Checksum));
        assert_eq!(validate("1101051949123100"), Err(IdNumberError::Length));
        assert_eq!(validate("1101051949123100AX"), Err(IdNumberError::Characters));
        assert_eq!(validate("110105194913310029"), Err(IdNumberError::BirthDate));
    }

    #[test]
    fn debug_hides_the_number_and_serde_is_a_plain_string() {
        let n = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        let dbg = format!("{n:?}");
        assert!(!dbg.contains("110105"), "{dbg}");
        assert!(dbg.ends_with("002X)"));
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"11010519491231002X\"");
        assert!(IdNumber::parse("110105194912310021").is_err());
    }
}
