//! Who is calling: [`UserId`], and the bearer-token check that turns an
//! `Authorization` header into the user it speaks for ([`authorize`]).
//!
//! Tokens are HS256 JWTs (RFC 7519) signed with the app's secret. The check
//! is pure: the time comes in as an argument.

#![warn(missing_docs)]

use std::fmt;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

/// How far the clocks of the token's issuer and of this service may disagree
/// when `exp` and `nbf` are checked.
pub const LEEWAY_SECONDS: i64 = 30;

/// A user id as it appears in `/api/{user_id}/...` and in the token's `sub`.
///
/// Limited to characters that cannot collide with the storage key separator
/// (`:`; Dapr reserves `||` for its own prefix).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// The longest user id, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Accepts 1 to 64 ASCII letters, digits, `-`, `_`, `.` or `@`.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
        ok.then(|| Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Owned, so that it reads from buffered input too (a JSON value, an
        // untagged enum).
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("not a user id: {raw:?}")))
    }
}

/// Why a request may not act for the user of its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token was sent (401).
    #[error("send a bearer token: Authorization: Bearer <JWT>")]
    Missing,
    /// The token was sent but is not valid now (401).
    #[error("the bearer token is not valid: {0}")]
    Invalid(String),
    /// The token is valid but speaks for another user (403).
    #[error("this token may not act for user {0}")]
    Forbidden(String),
}

/// The claims read from a token; the others are ignored.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    /// NumericDate: seconds since 1970, possibly with a fraction (RFC 7519 §2).
    exp: Option<f64>,
    nbf: Option<f64>,
    /// What a token of narrow use may act on ([`issue_scoped`]).
    scope: Option<String>,
}

/// Checks the `Authorization` header against `secret` at time `now`, and
/// answers the user it speaks for, if that user is `path_user`.
///
/// Following RFC 7519: the token must be an HS256 JWS (§7.2); `exp` is
/// required (this service accepts no token that never expires) and must be
/// after `now` (§4.1.4); `nbf`, when present, must not be after `now`
/// (§4.1.5), both with [`LEEWAY_SECONDS`] of leeway; `sub` is required and is
/// the user (§4.1.2); a token with an `aud` claim is refused, since this
/// service identifies itself with no audience (§4.1.3).
pub fn authorize(
    header: Option<&str>,
    secret: &[u8],
    path_user: &str,
    now: DateTime<Utc>,
) -> Result<UserId, AuthError> {
    authorize_scoped(header, secret, path_user, None, now)
}

/// [`authorize`], also taking a token of [`issue_scoped`] for `scope`, when
/// given: the request acts on what the scope names and nothing else.
pub fn authorize_scoped(
    header: Option<&str>,
    secret: &[u8],
    path_user: &str,
    scope: Option<&str>,
    now: DateTime<Utc>,
) -> Result<UserId, AuthError> {
    let sub = subject(header, secret, scope, now)?;
    if sub != path_user {
        return Err(AuthError::Forbidden(path_user.to_owned()));
    }
    UserId::parse(&sub).ok_or_else(|| AuthError::Invalid("its sub is not a valid user id".into()))
}

/// Checks the `Authorization` header as [`authorize`] does, and answers the
/// user it speaks for, for an endpoint whose path names no user (MCP).
pub fn authenticate(
    header: Option<&str>,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<UserId, AuthError> {
    let sub = subject(header, secret, None, now)?;
    UserId::parse(&sub).ok_or_else(|| AuthError::Invalid("its sub is not a valid user id".into()))
}

/// A token for `user`, signed with `secret`, issued at `now` and valid for
/// `valid_for` seconds: what [`authorize`] accepts (HS256, `sub`, `iat`,
/// `exp`).
pub fn issue(
    user: &UserId,
    secret: &[u8],
    now: DateTime<Utc>,
    valid_for: i64,
) -> Result<String, String> {
    signed(user, secret, now, valid_for, None)
}

/// A token as [`issue`] makes, which acts on `scope` only (say `task:ID`):
/// [`authorize`] refuses it, [`authorize_scoped`] takes it for that scope.
/// A pushed reminder carries one, so that its notification's buttons can
/// complete or snooze its task and do nothing else.
pub fn issue_scoped(
    user: &UserId,
    secret: &[u8],
    now: DateTime<Utc>,
    valid_for: i64,
    scope: &str,
) -> Result<String, String> {
    signed(user, secret, now, valid_for, Some(scope))
}

fn signed(
    user: &UserId,
    secret: &[u8],
    now: DateTime<Utc>,
    valid_for: i64,
    scope: Option<&str>,
) -> Result<String, String> {
    #[derive(Serialize)]
    struct Issued<'a> {
        sub: &'a str,
        iat: i64,
        exp: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<&'a str>,
    }
    let claims = Issued {
        sub: user.as_str(),
        iat: now.timestamp(),
        exp: now.timestamp() + valid_for,
        scope,
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| format!("cannot sign a token: {e}"))
}

/// The `sub` of a valid token: one without a scope, or one for `scope`.
fn subject(
    header: Option<&str>,
    secret: &[u8],
    scope: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let token = header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Missing)?;
    let invalid = |why: &str| AuthError::Invalid(why.to_owned());
    let mut validation = Validation::new(Algorithm::HS256);
    // exp and nbf are checked below against `now`, not the system clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    let claims = decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
        .map_err(|e| AuthError::Invalid(reason(e.kind())))?
        .claims;
    let now = now.timestamp() as f64;
    let leeway = LEEWAY_SECONDS as f64;
    let exp = claims
        .exp
        .ok_or_else(|| invalid("it lacks the exp claim"))?;
    if exp <= now - leeway {
        return Err(invalid("it has expired"));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + leeway) {
        return Err(invalid("it is not valid yet (nbf)"));
    }
    if let Some(given) = claims.scope.as_deref()
        && Some(given) != scope
    {
        return Err(invalid(&format!("it may act on {given} only")));
    }
    claims.sub.ok_or_else(|| invalid("it lacks the sub claim"))
}

fn reason(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::InvalidSignature => "its signature does not match".into(),
        K::InvalidAlgorithm => "it must be signed with HS256".into(),
        K::InvalidAudience => "it names an audience (aud) this service is not".into(),
        K::Json(_) => {
            "its claims are not of the expected types (sub a string, exp and nbf numbers)".into()
        }
        _ => "it is not a well-formed HS256 JWT".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &[u8] = b"test-secret";
    const NOW: i64 = 1_800_000_000;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(NOW, 0).unwrap_or_default()
    }

    fn signed(header: Header, claims: serde_json::Value, secret: &[u8]) -> String {
        format!(
            "Bearer {}",
            encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap_or_default()
        )
    }

    fn token(claims: serde_json::Value) -> String {
        signed(Header::new(Algorithm::HS256), claims, SECRET)
    }

    fn check(header: &str) -> Result<UserId, AuthError> {
        authorize(Some(header), SECRET, "alice", now())
    }

    fn invalid(why: &str) -> Result<UserId, AuthError> {
        Err(AuthError::Invalid(why.into()))
    }

    #[test]
    fn an_issued_token_passes_until_it_expires_and_only_for_its_user() {
        let alice = UserId::parse("alice").expect("a user id");
        let token = issue(&alice, SECRET, now(), 3600).expect("signed");
        let header = format!("Bearer {token}");
        assert_eq!(check(&header), Ok(alice.clone()));
        assert_eq!(authenticate(Some(&header), SECRET, now()), Ok(alice));
        let later = now() + chrono::Duration::seconds(3600 + LEEWAY_SECONDS);
        assert!(authorize(Some(&header), SECRET, "alice", later).is_err());
        assert!(authenticate(Some(&header), b"another-secret", now()).is_err());
    }

    #[test]
    fn a_scoped_token_acts_on_its_scope_only() {
        let alice = UserId::parse("alice").expect("a user id");
        let token = issue_scoped(&alice, SECRET, now(), 3600, "task:1").expect("signed");
        let header = format!("Bearer {token}");
        let narrow = || invalid("it may act on task:1 only");
        assert_eq!(
            authorize_scoped(Some(&header), SECRET, "alice", Some("task:1"), now()),
            Ok(alice.clone())
        );
        assert_eq!(
            authorize_scoped(Some(&header), SECRET, "alice", Some("task:2"), now()),
            narrow()
        );
        assert_eq!(check(&header), narrow());
        assert_eq!(authenticate(Some(&header), SECRET, now()), narrow());
        // Another user's path is still another user's.
        assert_eq!(
            authorize_scoped(Some(&header), SECRET, "bob", Some("task:1"), now()),
            Err(AuthError::Forbidden("bob".into()))
        );
        // An ordinary token serves a scoped route too.
        let full = format!(
            "Bearer {}",
            issue(&alice, SECRET, now(), 60).expect("signed")
        );
        assert_eq!(
            authorize_scoped(Some(&full), SECRET, "alice", Some("task:1"), now()),
            Ok(alice)
        );
    }

    #[test]
    fn a_valid_token_for_the_path_user_passes() {
        let header = token(json!({"sub": "alice", "exp": NOW + 3600}));
        assert_eq!(check(&header).map(|u| u.to_string()), Ok("alice".into()));
    }

    #[test]
    fn user_ids_are_limited_to_safe_characters() {
        assert!(UserId::parse("alice").is_some());
        assert!(UserId::parse("a.b-c_d@example.com").is_some());
        assert!(UserId::parse("").is_none());
        assert!(UserId::parse("a:b").is_none());
        assert!(UserId::parse("a/b").is_none());
        assert!(UserId::parse(&"x".repeat(65)).is_none());
    }

    #[test]
    fn no_token_is_missing() {
        assert_eq!(
            authorize(None, SECRET, "alice", now()),
            Err(AuthError::Missing)
        );
        assert_eq!(check("Basic abc"), Err(AuthError::Missing));
        assert_eq!(check("Bearer  "), Err(AuthError::Missing));
    }

    /// RFC 7519 §4.1.2: "The "sub" (subject) claim identifies the principal
    /// that is the subject of the JWT."
    #[test]
    fn sub_is_required_and_must_be_the_path_user() {
        let bob = token(json!({"sub": "bob", "exp": NOW + 3600}));
        assert_eq!(check(&bob), Err(AuthError::Forbidden("alice".into())));
        let none = token(json!({"exp": NOW + 3600}));
        assert_eq!(check(&none), invalid("it lacks the sub claim"));
        let number = token(json!({"sub": 7, "exp": NOW + 3600}));
        assert!(matches!(check(&number), Err(AuthError::Invalid(_))));
    }

    /// RFC 7519 §4.1.4: "The processing of the "exp" claim requires that the
    /// current date/time MUST be before the expiration date/time listed in the
    /// "exp" claim. Implementers MAY provide for some small leeway, usually no
    /// more than a few minutes, to account for clock skew."
    #[test]
    fn exp_is_required_and_honoured_with_a_small_leeway() {
        let none = token(json!({"sub": "alice"}));
        assert_eq!(check(&none), invalid("it lacks the exp claim"));
        let long_gone = token(json!({"sub": "alice", "exp": NOW - LEEWAY_SECONDS}));
        assert_eq!(check(&long_gone), invalid("it has expired"));
        let just_gone = token(json!({"sub": "alice", "exp": NOW - LEEWAY_SECONDS + 1}));
        assert!(check(&just_gone).is_ok(), "within the leeway");
        let fraction = token(json!({"sub": "alice", "exp": NOW as f64 + 0.5}));
        assert!(
            check(&fraction).is_ok(),
            "a NumericDate may have a fraction"
        );
        let text = token(json!({"sub": "alice", "exp": "tomorrow"}));
        assert!(matches!(check(&text), Err(AuthError::Invalid(_))));
    }

    /// RFC 7519 §4.1.5: "The "nbf" (not before) claim identifies the time
    /// before which the JWT MUST NOT be accepted for processing."
    #[test]
    fn nbf_is_honoured_with_a_small_leeway() {
        let claims = |nbf: i64| json!({"sub": "alice", "exp": NOW + 3600, "nbf": nbf});
        assert_eq!(
            check(&token(claims(NOW + LEEWAY_SECONDS + 1))),
            invalid("it is not valid yet (nbf)")
        );
        assert!(check(&token(claims(NOW + LEEWAY_SECONDS))).is_ok());
        assert!(check(&token(claims(NOW - 60))).is_ok());
    }

    /// RFC 7519 §4.1.3: "If the principal processing the claim does not
    /// identify itself with a value in the "aud" claim when this claim is
    /// present, then the JWT MUST be rejected."
    #[test]
    fn a_token_for_an_audience_is_refused() {
        let header = token(json!({"sub": "alice", "exp": NOW + 3600, "aud": "another-service"}));
        assert_eq!(
            check(&header),
            invalid("it names an audience (aud) this service is not")
        );
    }

    /// RFC 7519 §7.2: the JWS must validate; here, only HS256 with our key.
    #[test]
    fn only_hs256_with_the_secret_passes() {
        let claims = json!({"sub": "alice", "exp": NOW + 3600});
        let forged = signed(Header::new(Algorithm::HS256), claims.clone(), b"other");
        assert_eq!(check(&forged), invalid("its signature does not match"));
        let hs512 = signed(Header::new(Algorithm::HS512), claims, SECRET);
        assert_eq!(check(&hs512), invalid("it must be signed with HS256"));
        let unsigned = "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.";
        assert!(matches!(check(unsigned), Err(AuthError::Invalid(_))));
        assert!(matches!(check("Bearer x.y.z"), Err(AuthError::Invalid(_))));
    }
}
