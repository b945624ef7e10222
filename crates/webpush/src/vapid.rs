//! RFC 8292: the application server names itself to a push service with a
//! JWT signed by its P-256 key (ES256), carrying the push service's origin
//! (`aud`), an expiry (`exp`, at most a day ahead) and a contact (`sub`),
//! sent as `Authorization: vapid t=<JWT>, k=<public key>`.

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::{Error, decode, encode};

/// The JWS header of every token: `{"typ":"JWT","alg":"ES256"}`.
const HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The push service's origin, `https://push.example.net`.
    pub aud: String,
    /// When the token expires, in seconds since 1970.
    pub exp: i64,
    /// Whom the push service may contact: `mailto:` or `https:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

/// The application server's VAPID key pair.
pub struct Vapid {
    key: SigningKey,
    public: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key never goes into a log.
        f.debug_struct("Vapid")
            .field("public", &self.public)
            .finish()
    }
}

impl Vapid {
    /// Reads the private key: its 32-byte scalar in URL-safe base64, as
    /// `web-push generate-vapid-keys` and most libraries write it.
    pub fn parse(private: &str) -> Result<Self, Error> {
        let scalar = decode(private.trim(), "the VAPID private key")?;
        let key =
            SigningKey::from_slice(&scalar).map_err(|_| Error::Key("the VAPID private key"))?;
        let point = key.verifying_key().to_encoded_point(false);
        Ok(Self {
            public: encode(point.as_bytes()),
            key,
        })
    }

    /// The public key (an uncompressed point in URL-safe base64): what the
    /// page gives `pushManager.subscribe` as `applicationServerKey`.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header of a push to a service at `audience` (its
    /// origin) until `exp`, naming `subject` as the contact.
    pub fn authorization(&self, audience: &str, exp: i64, subject: &str) -> String {
        let claims = Claims {
            aud: audience.to_owned(),
            exp,
            sub: Some(subject.to_owned()),
        };
        let claims = serde_json::to_vec(&claims).unwrap_or_default();
        let input = format!("{}.{}", encode(HEADER.as_bytes()), encode(&claims));
        let signature: Signature = self.key.sign(input.as_bytes());
        format!(
            "vapid t={input}.{}, k={}",
            encode(&signature.to_bytes()),
            self.public
        )
    }
}

/// Checks a `vapid t=..., k=...` header at `now` (seconds since 1970) as a
/// push service does: the token is ES256, signed by `k`, not expired.
/// Answers what it says and the key.
pub fn verify(authorization: &str, now: i64) -> Result<(Claims, String), Error> {
    let fields = authorization
        .strip_prefix("vapid ")
        .ok_or(Error::Vapid("not the vapid scheme"))?;
    let (mut token, mut key) = (None, None);
    for field in fields.split(',') {
        match field.trim().split_once('=') {
            Some(("t", value)) => token = Some(value),
            Some(("k", value)) => key = Some(value),
            _ => return Err(Error::Vapid("a field is neither t nor k")),
        }
    }
    let (token, key) = token.zip(key).ok_or(Error::Vapid("t or k is missing"))?;
    let point = decode(key, "k")?;
    let verifying = VerifyingKey::from_sec1_bytes(&point).map_err(|_| Error::Key("k"))?;
    let (input, signature) = token
        .rsplit_once('.')
        .ok_or(Error::Vapid("the token has no signature"))?;
    let signature = Signature::from_slice(&decode(signature, "the signature")?)
        .map_err(|_| Error::Vapid("the signature is not 64 bytes"))?;
    verifying
        .verify(input.as_bytes(), &signature)
        .map_err(|_| Error::Vapid("the signature does not match k"))?;
    let (header, claims) = input
        .split_once('.')
        .ok_or(Error::Vapid("the token is not three parts"))?;
    let header: serde_json::Value = serde_json::from_slice(&decode(header, "the header")?)
        .map_err(|_| Error::Vapid("the header is not JSON"))?;
    if header["alg"] != "ES256" {
        return Err(Error::Vapid("the algorithm is not ES256"));
    }
    let claims: Claims = serde_json::from_slice(&decode(claims, "the claims")?)
        .map_err(|_| Error::Vapid("the claims are not aud, exp and sub"))?;
    if claims.exp <= now {
        return Err(Error::Vapid("the token has expired"));
    }
    Ok((claims, key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8292, section 2.4: "Requesting Push Message Delivery with JWT"
    // (the header's line wrapping removed).
    const RFC_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3\
B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0.\
i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA";
    const RFC_KEY: &str =
        "BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs";
    /// "This JWT would be valid until 2016-01-23T04:36:08Z."
    const RFC_EXP: i64 = 1_453_523_768;

    #[test]
    fn the_rfc_8292_example_verifies_until_it_expires() {
        let header = format!("vapid t={RFC_TOKEN}, k={RFC_KEY}");
        let (claims, key) = verify(&header, RFC_EXP - 60).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            claims,
            Claims {
                aud: "https://push.example.net".into(),
                exp: RFC_EXP,
                sub: Some("mailto:push@example.com".into()),
            }
        );
        assert_eq!(key, RFC_KEY);
        assert_eq!(
            verify(&header, RFC_EXP),
            Err(Error::Vapid("the token has expired"))
        );
    }

    #[test]
    fn a_token_made_here_verifies_and_a_changed_one_does_not() {
        // RFC 8291's example server key, as a VAPID key.
        let vapid = Vapid::parse("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            vapid.public_key(),
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
        let header = vapid.authorization(
            "https://fcm.googleapis.com",
            2_000_000_000,
            "mailto:ops@example.com",
        );
        let (claims, key) = verify(&header, 1_999_999_000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(claims.aud, "https://fcm.googleapis.com");
        assert_eq!(claims.sub.as_deref(), Some("mailto:ops@example.com"));
        assert_eq!(key, vapid.public_key());
        let other_key = header.replace(vapid.public_key(), RFC_KEY);
        assert_eq!(
            verify(&other_key, 0),
            Err(Error::Vapid("the signature does not match k"))
        );
        let claims_changed = header.replacen("eyJ", "eyK", 2);
        assert!(verify(&claims_changed, 0).is_err());
        assert!(verify("WebPush abc", 0).is_err());
    }

    #[test]
    fn a_private_key_that_is_not_a_scalar_is_refused_and_never_shown() {
        assert_eq!(
            Vapid::parse("AAAA").map(|_| ()),
            Err(Error::Key("the VAPID private key"))
        );
        let zero = encode(&[0; 32]);
        assert!(Vapid::parse(&zero).is_err());
        let vapid = Vapid::parse("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{vapid:?}").contains("yfWPiYE"));
    }
}
