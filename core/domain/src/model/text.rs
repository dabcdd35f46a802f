//! Free text in operations: every text field has a length limit, and a required
//! text must contain a visible character. One home for both rules: each op's
//! `validate` calls [`check`], on the phone before queueing and on the server
//! before applying.
//!
//! Visible means: not whitespace, not a control or format character (zero-width
//! spaces and joiners, the BOM, soft hyphens, bidi marks: Unicode category Cf),
//! not unassigned or a surrogate, not a combining mark on its own, and not one of
//! the letters and symbols that draw nothing (Hangul fillers, the blank braille
//! pattern). Categories come from the `unicode-properties` tables.

use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::wire::rejection::{Rejection, RejectionCode};

/// Whether a string is a lowercase hex SHA-256.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Letters and symbols that Unicode classes as visible but that draw nothing.
const BLANK_GLYPHS: [char; 5] = ['\u{115F}', '\u{1160}', '\u{3164}', '\u{FFA0}', '\u{2800}'];

/// Whether `c` draws something a reader can see.
pub fn is_visible(c: char) -> bool {
    if c.is_whitespace() || BLANK_GLYPHS.contains(&c) {
        return false;
    }
    match c.general_category_group() {
        GeneralCategoryGroup::Separator | GeneralCategoryGroup::Mark => false,
        GeneralCategoryGroup::Other => c.general_category() == GeneralCategory::PrivateUse,
        _ => true,
    }
}

/// The refusal of a photo reference that is no photo fingerprint (a SHA-256 in hex).
pub const BAD_PHOTO_HASH: &str = "照片：照片校验码不对（须为照片内容的 SHA-256 校验码），请重新选择照片";

/// The refusal of a record without an id (an app fault, not the user's).
pub const NIL_ID: &str = "记录编号：记录缺少编号，请更新应用后重试";

/// Whether `s` has at least one visible character.
pub fn has_visible(s: &str) -> bool {
    s.chars().any(is_visible)
}

/// Checks one text field: at most `max` characters (refused `text_too_long`,
/// naming the field), and, when `required`, at least one visible character
/// (refused `invalid_field`). An optional text may be empty or blank.
pub fn check(field: &str, s: &str, required: bool, max: usize) -> Result<(), Rejection> {
    // Counting stops at the limit: a text of megabytes is not walked through.
    if s.chars().nth(max).is_some() {
        return Err(Rejection::new(
            RejectionCode::TextTooLong,
            format!("{field}：最多 {max} 个字，请精简后再提交（文字长度上限）"),
        ));
    }
    if required && !has_visible(s) {
        return Err(Rejection::new(
            RejectionCode::InvalidField,
            format!("{field}：必须填写，且要有看得见的文字（不能只有空格或不可见字符）"),
        ));
    }
    Ok(())
}

/// [`check`] over every item of a list, each named `field`.
pub fn check_all<'a>(
    field: &str,
    items: impl IntoIterator<Item = &'a String>,
    required: bool,
    max: usize,
) -> Result<(), Rejection> {
    items.into_iter().try_for_each(|s| check(field, s, required, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_texts_are_refused_and_visible_ones_kept() {
        for blank in [
            "",
            " ",
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}",
            "\u{FEFF}",
            "\u{00AD}",
            "\u{2060}",
            "\u{3000}",
            "\u{3164}",
            "\u{0301}",
            "\t\n",
            "\u{202E}",
        ] {
            assert!(!has_visible(blank), "{:?}", blank.escape_unicode().to_string());
            let e = check("parties.name", blank, true, 100).unwrap_err();
            assert_eq!(e.code, RejectionCode::InvalidField);
            assert!(e.message.contains("parties.name"), "{e}");
        }
        for ok in ["王", "a\u{200B}", " 李四 ", "e\u{0301}", "😀", "1"] {
            assert!(has_visible(ok), "{ok:?}");
            check("parties.name", ok, true, 100).unwrap();
        }
        check("note", "", false, 10).unwrap();
    }

    #[test]
    fn too_long_names_the_field_with_a_stable_code() {
        check("note", &"字".repeat(10), true, 10).unwrap();
        let e = check("note", &"字".repeat(11), true, 10).unwrap_err();
        assert_eq!((e.code, e.code.as_str()), (RejectionCode::TextTooLong, "text_too_long"));
        assert!(e.message.starts_with("note："), "{e}");
    }
}
