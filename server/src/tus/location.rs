//! Where photo bytes live: the data dir's `photos/` folder by default, or an
//! S3-compatible bucket that an operator names (`serve --photos`, or
//! `FENGQIAO_PHOTOS`; ADR 0038). Credentials never appear in
//! the name: they come from the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and are never logged.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Where photo bytes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoLocation {
    /// A folder on this machine (the data dir's `photos/`).
    Local(PathBuf),
    /// An S3-compatible bucket.
    S3(S3Location),
}

/// An S3-compatible bucket, a key prefix inside it, and the settings given in
/// the URL's query (endpoint, region, `allow_http`, ...; never credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// Keys start with this (no leading or trailing `/`; empty: the bucket's root).
    pub prefix: String,
    /// `key=value` settings from the URL's query, in order.
    pub settings: Vec<(String, String)>,
}

/// Query keys that would put a secret in a command line or a log.
const SECRET_KEYS: &[&str] = &[
    "access_key_id",
    "secret_access_key",
    "session_token",
    "token",
    "sse_customer_key_base64",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_token",
    "aws_sse_customer_key_base64",
];

impl PhotoLocation {
    /// The default: the data dir's `photos/` folder.
    pub fn default_for(data_dir: &Path) -> PhotoLocation {
        PhotoLocation::Local(data_dir.join("photos"))
    }

    /// Whether the bytes live outside this machine's data dir (a backup then
    /// lists the photos instead of carrying them).
    pub fn is_remote(&self) -> bool {
        matches!(self, PhotoLocation::S3(_))
    }
}

impl FromStr for PhotoLocation {
    type Err = String;

    /// `s3://bucket[/prefix][?endpoint=http://…&region=…&allow_http=true]`
    /// (photos on this machine live in the data dir's `photos/`, unnamed).
    fn from_str(s: &str) -> Result<PhotoLocation, String> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("s3://") {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
            if bucket.is_empty() {
                return Err("--photos: s3:// needs a bucket (s3://bucket/prefix)".into());
            }
            let mut settings = Vec::new();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let k = k.to_ascii_lowercase();
                if SECRET_KEYS.contains(&k.as_str()) {
                    return Err(format!(
                        "--photos: {k} may not be given in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in \
                         the environment"
                    ));
                }
                settings.push((k, v.to_string()));
            }
            return Ok(PhotoLocation::S3(S3Location {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
                settings,
            }));
        }
        Err(format!(
            "--photos: {s:?}: give an S3-compatible bucket as s3://bucket/prefix?endpoint=…; without --photos, photos \
             live in the data dir's photos/ folder"
        ))
    }
}

impl fmt::Display for PhotoLocation {
    /// The location without anything secret (a URL never holds credentials;
    /// settings given otherwise are not shown if they are).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhotoLocation::Local(p) => write!(f, "file://{}", p.display()),
            PhotoLocation::S3(s) => {
                write!(f, "s3://{}", s.bucket)?;
                if !s.prefix.is_empty() {
                    write!(f, "/{}", s.prefix)?;
                }
                let shown = s.settings.iter().filter(|(k, _)| !SECRET_KEYS.contains(&k.as_str()));
                for (i, (k, v)) in shown.enumerate() {
                    write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_parse_and_refuse_credentials() {
        let loc: PhotoLocation =
            "s3://photos/county-a/?endpoint=http://127.0.0.1:9000&region=cn-north-1&allow_http=true".parse().unwrap();
        let PhotoLocation::S3(s3) = &loc else { panic!("an s3 location") };
        assert_eq!(s3.bucket, "photos");
        assert_eq!(s3.prefix, "county-a");
        assert_eq!(s3.settings[0], ("endpoint".into(), "http://127.0.0.1:9000".into()));
        assert!(loc.is_remote());
        assert_eq!(
            loc.to_string(),
            "s3://photos/county-a?endpoint=http://127.0.0.1:9000&region=cn-north-1&allow_http=true"
        );
        let PhotoLocation::S3(mut given) = loc.clone() else { unreachable!() };
        given.settings.push(("secret_access_key".into(), "hush".into()));
        assert!(!PhotoLocation::S3(given).to_string().contains("hush"), "a secret given to the builder is never shown");
        let err = "s3://photos?secret_access_key=x".parse::<PhotoLocation>().unwrap_err();
        assert!(err.contains("AWS_SECRET_ACCESS_KEY") && !err.contains("=x"), "{err}");
        assert!("s3://?region=x".parse::<PhotoLocation>().is_err());
        assert!("gs://bucket".parse::<PhotoLocation>().is_err());
        assert!("".parse::<PhotoLocation>().is_err());
        assert!("/srv/photos".parse::<PhotoLocation>().is_err(), "local photos live in the data dir");
        assert!(!PhotoLocation::default_for(Path::new("/d")).is_remote());
    }
}
