//! Push subscriptions on SQLite (in memory); PostgreSQL runs them end to
//! end.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::*;
use crate::testing::{database, user};

// RFC 8291, Appendix A: a browser's keys.
const P256DH: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-05T09:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn browser(endpoint: &str) -> Value {
    json!({"endpoint": endpoint, "expirationTime": null, "keys": {"p256dh": P256DH, "auth": AUTH}})
}

fn given(endpoint: &str) -> Subscribe {
    Subscribe::parse(&browser(endpoint), false).unwrap_or_else(|e| panic!("{e}"))
}

fn id(n: usize) -> String {
    format!("01KBP00000000000000000{n:04}")
}

#[test]
fn the_push_services_of_the_browsers_people_use_are_taken() {
    for endpoint in [
        "https://fcm.googleapis.com/fcm/send/dT8x:APA91b",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
        "https://web.push.apple.com/QGuQyavXutnMH2Mw",
    ] {
        assert_eq!(
            Endpoint::parse(endpoint, false).map(|e| e.as_str().to_owned()),
            Ok(endpoint.to_owned())
        );
    }
}

#[test]
fn other_endpoints_are_refused_saying_why() {
    let host = |raw: &str| Endpoint::parse(raw, false);
    assert!(matches!(
        host("https://push.example.com/x"),
        Err(Problem::NotAPushService(_, h)) if h == "push.example.com"
    ));
    assert!(matches!(
        host("https://fcm.googleapis.com.evil.example/x"),
        Err(Problem::NotAPushService(..))
    ));
    assert!(matches!(
        host("https://notify.windows.com.example/x"),
        Err(Problem::NotAPushService(..))
    ));
    assert!(
        matches!(host("http://fcm.googleapis.com/x"), Err(Problem::NotHttps(s)) if s == "http")
    );
    assert!(matches!(
        host("https://user:pw@fcm.googleapis.com/x"),
        Err(Problem::BadUrl(_))
    ));
    assert!(matches!(
        host("fcm.googleapis.com/x"),
        Err(Problem::BadUrl(_))
    ));
    assert!(matches!(
        host("http://127.0.0.1:9/push"),
        Err(Problem::NotAPushService(..))
    ));
    assert!(
        Endpoint::parse("http://127.0.0.1:9/push", true).is_ok(),
        "where loopback is allowed"
    );
}

#[test]
fn bad_subscriptions_name_the_field() {
    let field = |body: Value| {
        Subscribe::parse(&body, false)
            .map(|_| ())
            .map_err(|e| e.field)
    };
    let endpoint = "https://fcm.googleapis.com/fcm/send/a";
    assert_eq!(
        field(json!({"keys": {"p256dh": P256DH, "auth": AUTH}})),
        Err("endpoint".into())
    );
    assert_eq!(field(json!({"endpoint": endpoint})), Err("keys".into()));
    assert_eq!(
        field(json!({"endpoint": endpoint, "keys": {"auth": AUTH}})),
        Err("keys.p256dh".into())
    );
    assert_eq!(
        field(json!({"endpoint": endpoint, "keys": {"p256dh": "BAAA", "auth": AUTH}})),
        Err("keys.p256dh".into())
    );
    assert_eq!(
        field(json!({"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": "AAAA"}})),
        Err("keys.auth".into())
    );
    assert_eq!(
        field(json!({"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": 3}})),
        Err("keys.auth".into())
    );
    assert_eq!(
        field(
            json!({"endpoint": "https://evil.example/x", "keys": {"p256dh": P256DH, "auth": AUTH}})
        ),
        Err("endpoint".into())
    );
    let mut extra = browser(endpoint);
    extra["topic"] = json!("x");
    assert_eq!(field(extra), Err("topic".into()));
    assert_eq!(field(json!([endpoint])), Err("body".into()));
}

#[test]
fn a_device_subscribes_once_and_again_only_refreshes_its_keys() {
    let db = database();
    let alice = user("alice");
    let phone = "https://fcm.googleapis.com/fcm/send/phone";
    let (first, new) =
        subscribe(&db, &alice, &given(phone), &id(1), now()).unwrap_or_else(|e| panic!("{e}"));
    assert!(new);
    let later = now() + Duration::hours(1);
    let (again, new) =
        subscribe(&db, &alice, &given(phone), &id(2), later).unwrap_or_else(|e| panic!("{e}"));
    assert!(!new);
    assert_eq!(
        (again.id.as_str(), again.updated_at),
        (first.id.as_str(), later)
    );
    let laptop = "https://updates.push.services.mozilla.com/wpush/v2/laptop";
    subscribe(&db, &alice, &given(laptop), &id(3), now()).unwrap_or_else(|e| panic!("{e}"));
    let endpoints: Vec<String> = (list(&db, &alice).unwrap_or_default().into_iter())
        .map(|s| s.endpoint.as_str().to_owned())
        .collect();
    assert_eq!(endpoints, [phone, laptop]);
}

#[test]
fn subscriptions_are_per_user_and_removed_by_id() {
    let db = database();
    let (alice, bob) = (user("alice"), user("bob"));
    let phone = "https://fcm.googleapis.com/fcm/send/phone";
    subscribe(&db, &alice, &given(phone), &id(1), now()).unwrap_or_else(|e| panic!("{e}"));
    // The same endpoint is another user's subscription of their own.
    let (theirs, new) =
        subscribe(&db, &bob, &given(phone), &id(2), now()).unwrap_or_else(|e| panic!("{e}"));
    assert!(new && theirs.id == id(2));
    assert!(matches!(
        unsubscribe(&db, &bob, &id(1)),
        Err(TaskError::NotFound)
    ));
    assert_eq!(list(&db, &alice).map(|l| l.len()).ok(), Some(1));
    unsubscribe(&db, &alice, &id(1)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(list(&db, &alice).map(|l| l.len()).ok(), Some(0));
    assert_eq!(list(&db, &bob).map(|l| l.len()).ok(), Some(1));
}

#[test]
fn a_user_subscribes_a_bounded_number_of_devices() {
    let db = database();
    let alice = user("alice");
    for n in 0..MAX_PER_USER {
        let endpoint = format!("https://fcm.googleapis.com/fcm/send/{n}");
        subscribe(&db, &alice, &given(&endpoint), &id(n), now()).unwrap_or_else(|e| panic!("{e}"));
    }
    let over = given("https://fcm.googleapis.com/fcm/send/x");
    let over = subscribe(&db, &alice, &over, &id(999), now());
    assert!(matches!(
        over,
        Err(TaskError::Exceeded(Exceeded::Devices(MAX_PER_USER)))
    ));
    let known = given("https://fcm.googleapis.com/fcm/send/0");
    let again = subscribe(&db, &alice, &known, &id(998), now());
    assert!(
        again.is_ok(),
        "a device subscribed already refreshes its keys"
    );
}
