//! Web Push, the parts that are cryptography: a message encrypted for one
//! browser's subscription with the `aes128gcm` content coding (RFC 8291 on
//! RFC 8188), and the application server's VAPID credentials (RFC 8292), an
//! ES256 JWT in the `Authorization` header of each push.
//!
//! Pure: the caller gives the randomness (an ephemeral key and a salt per
//! message) and the clock, so the same inputs give the same bytes, as the
//! RFCs' worked examples check.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

mod encryption;
mod vapid;

pub use encryption::{MAX_PAYLOAD, Subscriber, decrypt, encrypt};
pub use vapid::{Claims, Vapid, verify};

/// Why keys, a message or a token could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not URL-safe base64 (padding is allowed and ignored).
    #[error("{0} is not URL-safe base64")]
    Base64(&'static str),
    /// Of the wrong length, or not a point or scalar of P-256.
    #[error("{0} is not a P-256 key of the right form")]
    Key(&'static str),
    /// The authentication secret is not 16 bytes.
    #[error("auth must be 16 bytes, not {0}")]
    AuthLength(usize),
    /// The message is longer than one record holds.
    #[error("the message is {0} bytes; at most {MAX_PAYLOAD} fit")]
    TooLong(usize),
    /// The body is not an aes128gcm message for these keys.
    #[error("the message cannot be decrypted: {0}")]
    Decrypt(&'static str),
    /// The `Authorization` header is not a VAPID token that verifies.
    #[error("the VAPID credentials do not verify: {0}")]
    Vapid(&'static str),
}

/// `bytes` as URL-safe base64 without padding, as Web Push writes keys.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// URL-safe base64 read with or without padding; `what` names it in the
/// error.
pub fn decode(text: &str, what: &'static str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| Error::Base64(what))
}
