//! Password hashing with argon2id (the crate's defaults: m=19 MiB, t=2, p=1).

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Hashes a password to a PHC string.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Checks a password against a PHC string. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the username is unknown so
/// that a wrong username costs as much time as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&crate::auth::tokens::random_token()).unwrap_or_default())
}

/// Longest password accepted.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Checks a new password against the policy: at least `auth.min_password_chars`
/// characters, at most [`MAX_PASSWORD_CHARS`], not the username, not one
/// character repeated. The message never repeats the password.
pub fn check_policy(policy: &fengqiao_domain::policy::Policy, username: &str, password: &str) -> Result<(), String> {
    let n = password.chars().count();
    let min = policy.auth.min_password_chars;
    if n < min {
        return Err(format!("a password needs at least {min} characters"));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!("a password may have at most {MAX_PASSWORD_CHARS} characters"));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err("the password must not be the username".into());
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return Err("the password must not be one character repeated".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_repeated_and_username_passwords() {
        let p = fengqiao_domain::policy::Policy::default();
        let min = p.auth.min_password_chars;
        assert!(check_policy(&p, "li", &"a".repeat(min + 2)).unwrap_err().contains("repeated"));
        assert!(check_policy(&p, "li", "ab").unwrap_err().contains(&min.to_string()));
        let long_name = "x".repeat(min) + "y";
        assert!(check_policy(&p, &long_name, &long_name.to_uppercase()).is_err());
        assert!(check_policy(&p, "li", &"z".repeat(300)).is_err());
        let good = "rw".repeat(min);
        assert_eq!(check_policy(&p, "li", &good), Ok(()));
        assert!(!check_policy(&p, "li", "ab").unwrap_err().contains("ab"), "the message never repeats it");
    }

    #[test]
    fn hash_verifies_only_the_right_password() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterx", &h));
        assert!(!verify("anything", "not a phc string"));
    }
}
