//! Bearer tokens: HS256 JWTs whose `sub` is the user and whose `exp` is required.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;

use crate::ids::UserId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("send a bearer token: Authorization: Bearer <JWT>")]
    Missing,
    #[error("the bearer token is not valid: {0}")]
    Invalid(String),
    #[error("the token's user may not act for this user")]
    Forbidden,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
}

/// Checks the `Authorization` header against `secret` and answers the user it
/// speaks for, if that user is `path_user`.
///
/// `exp` must be present and in the future (no leeway); the algorithm must be HS256.
pub fn authorize(
    header: Option<&str>,
    secret: &[u8],
    path_user: &str,
) -> Result<UserId, AuthError> {
    let token = header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Missing)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let claims = decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
        .map_err(|e| AuthError::Invalid(reason(e.kind())))?
        .claims;
    if claims.sub != path_user {
        return Err(AuthError::Forbidden);
    }
    UserId::parse(&claims.sub).ok_or(AuthError::Forbidden)
}

fn reason(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => "it has expired".into(),
        K::InvalidSignature => "its signature does not match".into(),
        K::MissingRequiredClaim(claim) => format!("it lacks the {claim} claim"),
        K::InvalidAlgorithm => "it must be signed with HS256".into(),
        _ => "it is not a well-formed HS256 JWT".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const SECRET: &[u8] = b"test-secret";

    fn token(claims: serde_json::Value, secret: &[u8]) -> String {
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        );
        format!("Bearer {}", token.unwrap_or_default())
    }

    fn in_an_hour() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64 + 3600)
            .unwrap_or_default()
    }

    #[test]
    fn a_valid_token_for_the_path_user_passes() {
        let header = token(json!({"sub": "alice", "exp": in_an_hour()}), SECRET);
        assert_eq!(
            authorize(Some(&header), SECRET, "alice").map(|u| u.to_string()),
            Ok("alice".into())
        );
    }

    #[test]
    fn another_users_token_is_forbidden() {
        let header = token(json!({"sub": "bob", "exp": in_an_hour()}), SECRET);
        assert_eq!(
            authorize(Some(&header), SECRET, "alice"),
            Err(AuthError::Forbidden)
        );
    }

    #[test]
    fn bad_tokens_are_unauthorized() {
        assert_eq!(authorize(None, SECRET, "alice"), Err(AuthError::Missing));
        assert_eq!(
            authorize(Some("Basic abc"), SECRET, "alice"),
            Err(AuthError::Missing)
        );
        let expired = token(json!({"sub": "alice", "exp": 1_000}), SECRET);
        assert_eq!(
            authorize(Some(&expired), SECRET, "alice"),
            Err(AuthError::Invalid("it has expired".into()))
        );
        let forged = token(json!({"sub": "alice", "exp": in_an_hour()}), b"other");
        assert!(matches!(
            authorize(Some(&forged), SECRET, "alice"),
            Err(AuthError::Invalid(_))
        ));
        let no_exp = token(json!({"sub": "alice"}), SECRET);
        assert!(matches!(
            authorize(Some(&no_exp), SECRET, "alice"),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(
            authorize(Some("Bearer x.y.z"), SECRET, "alice"),
            Err(AuthError::Invalid(_))
        ));
    }
}
