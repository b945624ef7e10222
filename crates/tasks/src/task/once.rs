//! Creates a client may send more than once: a create that carries an
//! `Idempotency-Key` header (the IETF httpapi draft of that name) is
//! recorded with its key in the same transaction as the task, so the same
//! request again answers what the first did and creates nothing, and the
//! same key with another body is refused (422). The web app's offline
//! queue sends its creates this way (ADR 22); any client may.
//!
//! A key is kept for [`KEPT_DAYS`] days; each keyed create of the user
//! forgets their older keys.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::error::{FieldError, Problem};

/// The header (lower case, as `http` names headers).
pub const HEADER: &str = "idempotency-key";

/// The header the answer to a repeated request carries.
pub const REPLAYED: &str = "idempotent-replayed";

/// How long a key is kept.
pub const KEPT_DAYS: i64 = 7;

/// The longest key taken.
const LONGEST: usize = 255;

/// A create's key and what it asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Once {
    key: String,
    fingerprint: String,
}

impl Once {
    /// The key of a request whose header is `header` (`None` without one)
    /// and whose body is `body`: 1 to 255 visible ASCII characters, as a
    /// token or as a structured-field string (`"..."`).
    pub fn of(header: Option<&[u8]>, body: &[u8]) -> Result<Option<Self>, FieldError> {
        let Some(header) = header else {
            return Ok(None);
        };
        let key = match header {
            [b'"', inner @ .., b'"'] => inner,
            bare => bare,
        };
        let problem = if key.is_empty() {
            Some(Problem::Empty)
        } else if key.len() > LONGEST {
            Some(Problem::TooLong {
                max: LONGEST,
                got: key.len(),
            })
        } else if !key.iter().all(|b| b.is_ascii_graphic()) {
            Some(Problem::NotAKey)
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(FieldError::new("Idempotency-Key", problem));
        }
        Ok(Some(Self {
            key: String::from_utf8_lossy(key).into_owned(),
            fingerprint: hex(&Sha256::digest(body)),
        }))
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The SHA-256 of the request's body, in hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Keys made before this, at `now`, are forgotten.
    pub(crate) fn oldest_kept(now: DateTime<Utc>) -> i64 {
        (now - Duration::days(KEPT_DAYS)).timestamp_micros()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(header: &[u8], body: &[u8]) -> Once {
        match Once::of(Some(header), body) {
            Ok(Some(once)) => once,
            other => panic!("{header:?} was not taken: {other:?}"),
        }
    }

    fn problem(header: &[u8]) -> Problem {
        match Once::of(Some(header), b"{}") {
            Err(e) => e.problem,
            Ok(once) => panic!("{header:?} was taken: {once:?}"),
        }
    }

    #[test]
    fn a_key_is_a_token_or_a_quoted_string() {
        let bare = taken(b"8e03978e-40d5", b"{}");
        let quoted = taken(b"\"8e03978e-40d5\"", b"{}");
        assert_eq!(bare, quoted);
        assert_eq!(bare.key(), "8e03978e-40d5");
        assert_eq!(Once::of(None, b"{}"), Ok(None));
    }

    #[test]
    fn the_fingerprint_is_the_bodys() {
        let a = taken(b"k", br#"{"title":"a"}"#);
        let b = taken(b"k", br#"{"title":"b"}"#);
        assert_ne!(a.fingerprint(), b.fingerprint());
        // SHA-256 of the empty string, as FIPS 180-4's examples give it.
        let empty = taken(b"k", b"");
        assert_eq!(
            empty.fingerprint(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn bad_keys_are_named() {
        assert_eq!(problem(b""), Problem::Empty);
        assert_eq!(problem(b"\"\""), Problem::Empty);
        assert_eq!(problem(b"a key"), Problem::NotAKey);
        assert_eq!(problem("clé".as_bytes()), Problem::NotAKey);
        assert_eq!(
            problem(&[b'k'; 256]),
            Problem::TooLong { max: 255, got: 256 }
        );
    }
}
