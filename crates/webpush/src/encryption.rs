//! RFC 8291: a push message encrypted for one user agent. The keys are
//! derived from an ECDH agreement between an ephemeral key of the
//! application server and the subscription's `p256dh` key, mixed with the
//! subscription's `auth` secret (section 3.4), and the message is one
//! `aes128gcm` record of RFC 8188 whose header carries the salt, the record
//! size and the ephemeral public key (section 4).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

use crate::{Error, decode};

/// The record size written in each message's header: one record of 4096
/// bytes, what every push service must accept (RFC 8291, section 4).
const RECORD_SIZE: u32 = 4096;
/// Salt, record size, key id length and the 65-byte key id (RFC 8188,
/// section 2.1).
const HEADER: usize = 16 + 4 + 1 + 65;
/// The AES-GCM tag.
const TAG: usize = 16;
/// The longest message one record carries: the record less the header,
/// the tag and the padding delimiter (3993 bytes).
pub const MAX_PAYLOAD: usize = RECORD_SIZE as usize - HEADER - TAG - 1;

/// A browser's subscription keys: its P-256 public key (`p256dh`) and its
/// 16-byte authentication secret (`auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    public: PublicKey,
    auth: [u8; 16],
}

impl Subscriber {
    /// Reads the keys of a `PushSubscription` as the browser gives them:
    /// `p256dh`, an uncompressed point (65 bytes), and `auth`, 16 bytes,
    /// both URL-safe base64.
    pub fn parse(p256dh: &str, auth: &str) -> Result<Self, Error> {
        let point = decode(p256dh, "p256dh")?;
        if point.len() != 65 || point[0] != 4 {
            return Err(Error::Key("p256dh"));
        }
        let public = PublicKey::from_sec1_bytes(&point).map_err(|_| Error::Key("p256dh"))?;
        let auth = decode(auth, "auth")?;
        let auth: [u8; 16] = auth
            .as_slice()
            .try_into()
            .map_err(|_| Error::AuthLength(auth.len()))?;
        Ok(Self { public, auth })
    }

    /// The public key as the 65 bytes of an uncompressed point.
    fn point(&self) -> Vec<u8> {
        self.public.to_encoded_point(false).as_bytes().to_vec()
    }
}

/// The content encryption key and nonce of a message (RFC 8291, section
/// 3.4, then RFC 8188, section 2.2 and 2.3).
fn keys(
    shared: &[u8],
    auth: &[u8; 16],
    receiver: &[u8],
    sender: &[u8],
    salt: &[u8; 16],
) -> ([u8; 16], [u8; 12]) {
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(receiver);
    info.extend_from_slice(sender);
    let mut ikm = [0; 32];
    Hkdf::<Sha256>::new(Some(auth), shared)
        .expand(&info, &mut ikm)
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA-256 length"));
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0; 16], [0; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .unwrap_or_else(|_| unreachable!("16 bytes is a valid HKDF-SHA-256 length"));
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .unwrap_or_else(|_| unreachable!("12 bytes is a valid HKDF-SHA-256 length"));
    (cek, nonce)
}

/// `plaintext` encrypted for `to`: the body of a push with
/// `Content-Encoding: aes128gcm`. `ephemeral` (32 random bytes, a P-256
/// scalar) and `salt` (16 random bytes) must be new for every message.
pub fn encrypt(
    plaintext: &[u8],
    to: &Subscriber,
    ephemeral: [u8; 32],
    salt: [u8; 16],
) -> Result<Vec<u8>, Error> {
    if plaintext.len() > MAX_PAYLOAD {
        return Err(Error::TooLong(plaintext.len()));
    }
    let secret = SecretKey::from_bytes(&ephemeral.into()).map_err(|_| Error::Key("ephemeral"))?;
    let sender = secret.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), to.public.as_affine());
    let (cek, nonce) = keys(
        shared.raw_secret_bytes(),
        &to.auth,
        &to.point(),
        sender.as_bytes(),
        &salt,
    );
    // The last (and only) record ends with the delimiter 2, unpadded.
    let mut record = plaintext.to_vec();
    record.push(2);
    let sealed = Aes128Gcm::new(&cek.into())
        .encrypt(&Nonce::from(nonce), Payload::from(record.as_slice()))
        .map_err(|_| Error::TooLong(plaintext.len()))?;
    let mut body = Vec::with_capacity(HEADER + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(sender.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// What the browser of `secret` (its private key) and `auth` reads in
/// `body`, a one-record aes128gcm message: the test's side of [`encrypt`].
pub fn decrypt(body: &[u8], secret: [u8; 32], auth: [u8; 16]) -> Result<Vec<u8>, Error> {
    if body.len() < HEADER + TAG || body[20] != 65 {
        return Err(Error::Decrypt(
            "the header is short or its key id is not a point",
        ));
    }
    let salt: [u8; 16] = body[..16]
        .try_into()
        .map_err(|_| Error::Decrypt("no salt"))?;
    let sender = PublicKey::from_sec1_bytes(&body[21..HEADER])
        .map_err(|_| Error::Decrypt("the key id is not a P-256 point"))?;
    let secret = SecretKey::from_bytes(&secret.into()).map_err(|_| Error::Key("secret"))?;
    let receiver = secret.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), sender.as_affine());
    let (cek, nonce) = keys(
        shared.raw_secret_bytes(),
        &auth,
        receiver.as_bytes(),
        &body[21..HEADER],
        &salt,
    );
    let mut record = Aes128Gcm::new(&cek.into())
        .decrypt(&Nonce::from(nonce), &body[HEADER..])
        .map_err(|_| Error::Decrypt("the tag does not match"))?;
    // Padding is zeros after the delimiter; 2 marks the last record.
    while record.last() == Some(&0) {
        record.pop();
    }
    match record.pop() {
        Some(2) => Ok(record),
        _ => Err(Error::Decrypt("the record is not the last one")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode;

    // RFC 8291, Appendix A: "Intermediate Values for Encryption".
    const PLAINTEXT: &[u8] = b"When I grow up, I want to be a watermelon";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const AS_PUBLIC: &str =
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const MESSAGE: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml\
mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT\
pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    fn bytes<const N: usize>(text: &str) -> [u8; N] {
        let decoded = decode(text, "test value").unwrap_or_else(|e| panic!("{e}"));
        decoded.try_into().unwrap_or_else(|_| panic!("{N} bytes"))
    }

    #[test]
    fn the_rfc_8291_example_encrypts_to_its_message_byte_for_byte() {
        let ua = Subscriber::parse(UA_PUBLIC, AUTH).unwrap_or_else(|e| panic!("{e}"));
        let body = encrypt(PLAINTEXT, &ua, bytes(AS_PRIVATE), bytes(SALT));
        assert_eq!(body.map(|b| encode(&b)), Ok(MESSAGE.to_owned()));
        // "The push message ... keyid=BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml..."
        let header = decode(MESSAGE, "message").unwrap_or_default();
        assert_eq!(encode(&header[21..86]), AS_PUBLIC);
    }

    #[test]
    fn the_rfc_8291_message_decrypts_with_the_user_agents_keys() {
        let message = decode(MESSAGE, "message").unwrap_or_default();
        assert_eq!(
            decrypt(&message, bytes(UA_PRIVATE), bytes(AUTH)),
            Ok(PLAINTEXT.to_vec())
        );
        let mut tampered = message.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(decrypt(&tampered, bytes(UA_PRIVATE), bytes(AUTH)).is_err());
        let other_auth = [7; 16];
        assert!(decrypt(&message, bytes(UA_PRIVATE), other_auth).is_err());
    }

    #[test]
    fn a_message_as_long_as_a_record_holds_and_no_longer() {
        let ua = Subscriber::parse(UA_PUBLIC, AUTH).unwrap_or_else(|e| panic!("{e}"));
        let longest = vec![b'x'; MAX_PAYLOAD];
        let body = encrypt(&longest, &ua, bytes(AS_PRIVATE), bytes(SALT))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body.len(), RECORD_SIZE as usize);
        assert_eq!(decrypt(&body, bytes(UA_PRIVATE), bytes(AUTH)), Ok(longest));
        let over = vec![b'x'; MAX_PAYLOAD + 1];
        assert_eq!(
            encrypt(&over, &ua, bytes(AS_PRIVATE), bytes(SALT)),
            Err(Error::TooLong(MAX_PAYLOAD + 1))
        );
    }

    #[test]
    fn bad_subscription_keys_are_named() {
        let compressed = encode(&decode(UA_PUBLIC, "k").unwrap_or_default()[..33]);
        let off_curve = {
            let mut point = decode(UA_PUBLIC, "k").unwrap_or_default();
            point[64] ^= 1;
            encode(&point)
        };
        for (p256dh, auth, error) in [
            ("not base64!", AUTH, Error::Base64("p256dh")),
            (compressed.as_str(), AUTH, Error::Key("p256dh")),
            (off_curve.as_str(), AUTH, Error::Key("p256dh")),
            (UA_PUBLIC, "AAAA", Error::AuthLength(3)),
            (UA_PUBLIC, "%%", Error::Base64("auth")),
        ] {
            assert_eq!(Subscriber::parse(p256dh, auth), Err(error));
        }
        let padded = format!("{AUTH}==");
        assert!(
            Subscriber::parse(UA_PUBLIC, &padded).is_ok(),
            "padding is ignored"
        );
    }
}
