//! Prints a new VAPID key pair as the Spin variables that carry it:
//!
//!   SPIN_VARIABLE_VAPID_PRIVATE_KEY=<32-byte scalar, URL-safe base64>
//!   SPIN_VARIABLE_VAPID_PUBLIC_KEY=<uncompressed point, URL-safe base64>
//!
//! `scripts/up` keeps one per local profile (`.data/PROFILE/vapid.env`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    loop {
        let mut scalar = [0; 32];
        getrandom::fill(&mut scalar).map_err(|e| format!("no randomness: {e}"))?;
        // Nearly every 32 bytes are a P-256 scalar; draw again if not.
        let private = webpush::encode(&scalar);
        if let Ok(vapid) = webpush::Vapid::parse(&private) {
            println!("SPIN_VARIABLE_VAPID_PRIVATE_KEY={private}");
            println!("SPIN_VARIABLE_VAPID_PUBLIC_KEY={}", vapid.public_key());
            return Ok(());
        }
    }
}
