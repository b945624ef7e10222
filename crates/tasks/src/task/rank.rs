//! The keys that keep the order a person gives tasks ("put it first",
//! "move it above the report"): strings compared byte by byte, a task's id
//! until it is moved by hand (ids are ULIDs, so a new task comes last), and
//! for a moved task a key strictly between its new neighbours' keys. The
//! digits are the ULID's own (Crockford's base 32, in ASCII order).

/// The digits, in order.
const DIGITS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Keys longer than this are rewritten for the whole project
/// ([`spread`]): room between neighbours runs out a digit at a time.
pub const LONGEST: usize = 40;

fn digit(key: &[u8], i: usize) -> Option<usize> {
    key.get(i)
        .and_then(|byte| DIGITS.iter().position(|d| d == byte))
}

/// A key strictly between `low` (`None`: before everything) and `high`
/// (`None`: after everything), ending in no zero digit; `None` when
/// there is none that short (or the keys are not in order, or hold other
/// characters): the caller then spreads the keys again.
pub fn between(low: Option<&str>, high: Option<&str>) -> Option<String> {
    let (low, high) = (low.unwrap_or("").as_bytes(), high.map(str::as_bytes));
    if high.is_some_and(|high| low >= high) {
        return None;
    }
    let mut key = Vec::new();
    // `high` bounds the key only while the key is its prefix.
    let mut bounded = high.is_some();
    for i in 0..LONGEST {
        let below = if i < low.len() { digit(low, i)? } else { 0 };
        let above = match high {
            Some(high) if bounded => match high.get(i) {
                Some(_) => digit(high, i)?,
                // `high` ends here: nothing longer that starts like it is
                // below it.
                None => return None,
            },
            _ => DIGITS.len(),
        };
        if above > below + 1 {
            key.push(DIGITS[(below + above) / 2]);
            return String::from_utf8(key).ok();
        }
        key.push(DIGITS[below]);
        if above == below + 1 {
            bounded = false;
        }
    }
    None
}

/// `n` keys in order, evenly apart, each below any task id made after 1970
/// (they begin `00`), for a project whose keys grew too long.
pub fn spread(n: usize) -> Vec<String> {
    let room = 32u64.pow(6);
    let step = room / (n as u64 + 1);
    (1..=n as u64)
        .map(|i| {
            let mut value = i * step;
            let mut digits = [b'0'; 6];
            for slot in digits.iter_mut().rev() {
                *slot = DIGITS[(value % 32) as usize];
                value /= 32;
            }
            format!("00{}", String::from_utf8_lossy(&digits))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(low: Option<&str>, high: Option<&str>) -> String {
        let key =
            between(low, high).unwrap_or_else(|| panic!("a key between {low:?} and {high:?}"));
        assert!(low.is_none_or(|low| low < key.as_str()), "{low:?} < {key}");
        assert!(
            high.is_none_or(|high| key.as_str() < high),
            "{key} < {high:?}"
        );
        key
    }

    #[test]
    fn a_key_fits_between_any_two_and_at_either_end() {
        let (a, b) = ("01M91MDKRMP8PWEMK7NPSS6R7T", "01M91MDKWQMACFXGPKB149VXDG");
        let mid = ok(Some(a), Some(b));
        ok(Some(a), Some(&mid));
        ok(Some(&mid), Some(b));
        ok(None, Some(a));
        ok(Some(b), None);
        ok(None, None);
        // Neighbours one digit apart, and one the other's prefix.
        ok(Some("01A"), Some("01B"));
        ok(Some("01"), Some("01B"));
        assert_eq!(between(Some("B"), Some("A")), None);
        assert_eq!(between(Some("A"), Some("A")), None);
        assert_eq!(between(Some("A"), Some("A0")), None, "nothing fits");
    }

    #[test]
    fn keys_put_again_and_again_at_one_place_stay_in_order_until_too_long() {
        let (low, mut high) = (
            "01M91MDKRMP8PWEMK7NPSS6R7T".to_owned(),
            "01M91MDKRMP8PWEMK7NPSS6R7V".to_owned(),
        );
        let mut moves = 0;
        while let Some(key) = between(Some(&low), Some(&high)) {
            assert!(low < key && key < high);
            high = key;
            moves += 1;
        }
        assert!(moves > 50, "{moves} moves before the keys ran out");
        assert!(high.len() <= LONGEST);
    }

    #[test]
    fn spread_keys_are_in_order_and_below_every_id() {
        let keys = spread(1000);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert!(
            keys.iter()
                .all(|k| k.as_str() < "01000000000000000000000000")
        );
        assert_eq!(keys.len(), 1000);
    }
}
