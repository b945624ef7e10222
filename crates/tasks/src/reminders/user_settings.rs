//! A user's own settings (table `user_settings`): where their reminders are
//! POSTed (a webhook URL, checked as [`WebhookUrl`]), the secret that signs
//! them (made by the server, shown once: when the webhook is first set or
//! the secret rotated), and their default time zone.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sql::Database;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{FieldError, Problem, TaskError};
use crate::service::{ATTEMPTS, retry_sync};
use crate::task::store::Storage;
use crate::{TimeZone, UserId};

/// A webhook URL that passed the checks: absolute, `https` (or plain HTTP to
/// a loopback address where that is allowed), without credentials, and not
/// naming an address inside a private network.
///
/// Only addresses written in the URL are checked: a name that a resolver
/// maps to an internal address is not caught here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Checks `raw`; `allow_loopback` (the local profiles' Spin variable
    /// `webhooks_allow_loopback`) lets loopback addresses through, over
    /// plain HTTP too, for a receiver on the same machine.
    pub fn parse(raw: &str, allow_loopback: bool) -> Result<Self, Problem> {
        let url = url::Url::parse(raw).map_err(|e| Problem::BadUrl(e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Problem::BadUrl(
                "it must not carry a user name or password".into(),
            ));
        }
        let host = Host::of(&url).ok_or(Problem::BadUrl("it has no host".into()))?;
        let loopback = host.is_loopback();
        match url.scheme() {
            "https" => {}
            "http" if loopback && allow_loopback => {}
            other => return Err(Problem::NotHttps(other.to_owned())),
        }
        if (loopback && !allow_loopback) || host.is_internal() {
            let shown = url.host_str().unwrap_or_default().to_owned();
            return Err(Problem::InternalAddress(shown));
        }
        Ok(Self(url.into()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The host of a URL, as the checks see it.
enum Host {
    Name(String),
    Ip(IpAddr),
}

/// Whether `url` names a loopback address (`127.0.0.1`, `[::1]`,
/// `localhost`), as the webhook checks see it.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    Host::of(url).is_some_and(|host| host.is_loopback())
}

impl Host {
    fn of(url: &url::Url) -> Option<Self> {
        Some(match url.host()? {
            url::Host::Domain(name) => Self::Name(name.to_ascii_lowercase()),
            url::Host::Ipv4(ip) => Self::Ip(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Self::Ip(IpAddr::V6(ip)),
        })
    }

    fn is_loopback(&self) -> bool {
        match self {
            Self::Name(name) => name == "localhost" || name.ends_with(".localhost"),
            Self::Ip(ip) => v4_of(ip).map_or_else(|| ip.is_loopback(), |v4| v4.is_loopback()),
        }
    }

    /// Inside a private network, or no one's (other than loopback).
    fn is_internal(&self) -> bool {
        let Self::Ip(ip) = self else {
            return false;
        };
        if let Some(v4) = v4_of(ip) {
            let [a, b, ..] = v4.octets();
            return v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
                || a >= 224; // multicast and reserved
        }
        let IpAddr::V6(v6) = ip else {
            return false;
        };
        let first = v6.segments()[0];
        v6.is_unspecified()
            || v6.is_multicast()
            || (first & 0xfe00) == 0xfc00 // unique local (fc00::/7)
            || (first & 0xffc0) == 0xfe80 // link-local (fe80::/10)
    }
}

/// The IPv4 address an address is or embeds (`::ffff:10.0.0.1`).
fn v4_of(ip: &IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(v4) => Some(*v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().or_else(|| {
            (v6.segments()[..6] == [0; 6] && *v6 != Ipv6Addr::LOCALHOST && !v6.is_unspecified())
                .then(|| v6.to_ipv4())
                .flatten()
        }),
    }
}

/// How the web app looks: as the system says, or light or dark whatever it
/// says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// As the device is set (`prefers-color-scheme`).
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

impl Theme {
    fn parse(raw: &str) -> Result<Self, Problem> {
        match raw {
            "system" => Ok(Self::System),
            "light" => Ok(Self::Light),
            "dark" => Ok(Self::Dark),
            other => Err(Problem::NotOneOf {
                allowed: "system, light, dark",
                got: other.to_owned(),
            }),
        }
    }
}

/// A user's settings as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSettings {
    /// Where reminders are POSTed, if anywhere.
    pub webhook_url: Option<WebhookUrl>,
    /// The key of the signature of every webhook call, while there is a
    /// webhook.
    pub webhook_secret: Option<String>,
    /// The user's default time zone.
    pub time_zone: TimeZone,
    /// How the web app looks.
    #[serde(default)]
    pub theme: Theme,
}

/// Settings as answered: the secret only when it was just made.
#[derive(Debug, Serialize)]
pub struct View<'a> {
    /// Where reminders are POSTed.
    pub webhook_url: Option<&'a str>,
    /// Whether calls are signed (they are whenever there is a webhook).
    pub webhook_secret_set: bool,
    /// The secret, in the answer that made it and never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<&'a str>,
    /// The default time zone.
    pub time_zone: TimeZone,
    /// How the web app looks.
    pub theme: Theme,
}

impl UserSettings {
    /// The settings as answered, showing `made` as the secret just made.
    pub fn view<'a>(&'a self, made: Option<&'a str>) -> View<'a> {
        View {
            webhook_url: self.webhook_url.as_ref().map(WebhookUrl::as_str),
            webhook_secret_set: self.webhook_secret.is_some(),
            webhook_secret: made,
            time_zone: self.time_zone,
            theme: self.theme,
        }
    }
}

/// What a `PUT` asks: every setting (left out means its default), and
/// whether to make a new secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsInput {
    /// The webhook URL, or none.
    pub webhook_url: Option<WebhookUrl>,
    /// The default time zone (UTC when left out).
    pub time_zone: TimeZone,
    /// How the web app looks (as the system says when left out).
    pub theme: Theme,
    /// Whether to replace the secret (`rotate_webhook_secret`).
    pub rotate_secret: bool,
}

impl SettingsInput {
    /// The fields a `PUT` may name; `webhook_secret_set` and
    /// `webhook_secret`, from a read, are ignored.
    const KNOWN: &'static str = "webhook_url, time_zone, theme, rotate_webhook_secret";

    /// Parses a `PUT` body; `allow_loopback` as for [`WebhookUrl::parse`].
    pub fn parse(body: &Value, allow_loopback: bool) -> Result<Self, FieldError> {
        let Value::Object(fields) = body else {
            let expected = "a JSON object such as {\"webhook_url\": \"https://...\"}";
            return Err(FieldError::new("body", Problem::WrongType { expected }));
        };
        let mut input = Self {
            webhook_url: None,
            time_zone: TimeZone::UTC,
            theme: Theme::System,
            rotate_secret: false,
        };
        for (name, value) in fields {
            let err = |problem| FieldError::new(name.clone(), problem);
            let text = || {
                value.as_str().ok_or(err(Problem::WrongType {
                    expected: "a string",
                }))
            };
            match name.as_str() {
                "webhook_url" if value.is_null() => {}
                "webhook_url" => {
                    input.webhook_url =
                        Some(WebhookUrl::parse(text()?, allow_loopback).map_err(err)?)
                }
                "time_zone" => input.time_zone = TimeZone::parse(text()?).map_err(err)?,
                "theme" => input.theme = Theme::parse(text()?).map_err(err)?,
                "rotate_webhook_secret" => {
                    input.rotate_secret = value.as_bool().ok_or(err(Problem::WrongType {
                        expected: "true or false",
                    }))?
                }
                "webhook_secret_set" | "webhook_secret" => {}
                _ => return Err(err(Problem::UnknownField { known: Self::KNOWN })),
            }
        }
        Ok(input)
    }
}

/// `user`'s settings (the defaults when they never set any).
pub fn get(storage: &Storage, user: &UserId) -> Result<UserSettings, TaskError> {
    Ok(read(storage, user)?
        .map(|(settings, _)| settings)
        .unwrap_or_default())
}

/// Replaces `user`'s settings with `input`; a webhook set where there was
/// none, or a rotation, takes `fresh_secret` as its secret. Answers the
/// settings and the secret when it was just made.
pub fn put(
    storage: &Storage,
    user: &UserId,
    input: &SettingsInput,
    fresh_secret: &str,
) -> Result<(UserSettings, Option<String>), TaskError> {
    retry_sync(ATTEMPTS, || {
        // Version 0: none yet (a stored row's is 1 or more).
        let (before, version) = read(storage, user)?.unwrap_or_default();
        let kept = before.webhook_secret.filter(|_| !input.rotate_secret);
        let (secret, made) = match (&input.webhook_url, kept) {
            (None, _) => (None, None),
            (Some(_), Some(kept)) => (Some(kept), None),
            (Some(_), None) => (Some(fresh_secret.to_owned()), Some(fresh_secret.to_owned())),
        };
        let settings = UserSettings {
            webhook_url: input.webhook_url.clone(),
            webhook_secret: secret,
            time_zone: input.time_zone,
            theme: input.theme,
        };
        let body = serde_json::to_string(&settings)
            .map_err(|e| TaskError::Unavailable(format!("cannot encode settings: {e}")))?;
        // Only over the version read: a write in between is a race lost.
        let written = storage.execute(
            "INSERT INTO user_settings (user_id, version, body) VALUES ($1, 1, $3) \
             ON CONFLICT (user_id) DO UPDATE SET version = user_settings.version + 1, \
             body = excluded.body WHERE user_settings.version = $2",
            &[user.as_str().into(), version.into(), body.into()],
        )?;
        match written {
            0 => Err(TaskError::Conflict),
            _ => Ok((settings, made)),
        }
    })
}

/// `user`'s settings as stored and their version, if they set any.
fn read(storage: &Storage, user: &UserId) -> Result<Option<(UserSettings, i64)>, TaskError> {
    let rows = storage.query(
        "SELECT body, version FROM user_settings WHERE user_id = $1",
        &[user.as_str().into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let settings = serde_json::from_str(row.text(0)?)
        .map_err(|e| TaskError::Unavailable(format!("stored settings are unreadable: {e}")))?;
    Ok(Some((settings, row.int(1)?)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(raw: &str, allow_loopback: bool) -> String {
        match WebhookUrl::parse(raw, allow_loopback) {
            Ok(url) => format!("accepted {}", url.as_str()),
            Err(problem) => problem.to_string(),
        }
    }

    #[test]
    fn production_takes_only_https_to_public_addresses() {
        assert!(WebhookUrl::parse("https://hooks.example.com/todo?x=1", false).is_ok());
        assert!(WebhookUrl::parse("https://93.184.215.14:8443/h", false).is_ok());
        for (raw, says) in [
            ("http://hooks.example.com/todo", "https"),
            ("ftp://hooks.example.com/", "https"),
            ("not a url", "absolute URL"),
            ("/relative/path", "absolute URL"),
            ("https://user:pw@hooks.example.com/", "password"),
            ("https://127.0.0.1/h", "internal"),
            ("https://localhost:8080/h", "internal"),
            ("https://api.localhost/h", "internal"),
            ("https://10.1.2.3/h", "internal"),
            ("https://172.16.0.9/h", "internal"),
            ("https://192.168.1.1/h", "internal"),
            ("https://169.254.169.254/latest/meta-data", "internal"),
            ("https://100.64.0.1/h", "internal"),
            ("https://0.0.0.0/h", "internal"),
            ("https://[::1]/h", "internal"),
            ("https://[fd00::1]/h", "internal"),
            ("https://[fe80::1]/h", "internal"),
            ("https://[::ffff:10.0.0.1]/h", "internal"),
            ("https://2130706433/h", "internal"), // 127.0.0.1 written as a number
        ] {
            let said = refused(raw, false);
            assert!(said.contains(says), "{raw}: {said}");
        }
    }

    #[test]
    fn the_local_profiles_let_loopback_through_and_nothing_else() {
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(WebhookUrl::parse("http://localhost:9000/hook", true).is_ok());
        assert!(WebhookUrl::parse("https://[::1]:9000/hook", true).is_ok());
        assert!(refused("http://10.0.0.1/h", true).contains("https"));
        assert!(refused("https://10.0.0.1/h", true).contains("internal"));
        assert!(refused("http://example.com/h", true).contains("https"));
    }

    #[test]
    fn the_secret_is_made_once_and_kept_until_rotated_or_the_webhook_goes() {
        let db = sql::native::Sqlite::in_memory().expect("a database");
        let store = Storage::of(Box::new(db)).expect("migrated");
        let user = UserId::parse("alice").expect("a user id");
        let input = |body: Value| SettingsInput::parse(&body, true).expect("valid");
        let hook =
            json!({"webhook_url": "https://hooks.example.com/a", "time_zone": "Europe/Berlin"});
        let put = |body: Value, fresh: &str| put(&store, &user, &input(body), fresh);
        let (first, made) = put(hook.clone(), "s1").expect("saved");
        assert_eq!(made.as_deref(), Some("s1"));
        assert_eq!(first.time_zone.to_string(), "Europe/Berlin");
        let moved = json!({"webhook_url": "https://hooks.example.com/b"});
        let (second, made) = put(moved, "s2").expect("saved");
        assert_eq!((second.webhook_secret.as_deref(), made), (Some("s1"), None));
        assert_eq!(second.time_zone, TimeZone::UTC, "a PUT sets every field");
        let rotated =
            json!({"webhook_url": "https://hooks.example.com/b", "rotate_webhook_secret": true});
        let (_, made) = put(rotated, "s3").expect("saved");
        assert_eq!(made.as_deref(), Some("s3"));
        let (gone, made) = put(json!({"webhook_url": null}), "s4").expect("saved");
        assert_eq!((gone.webhook_secret, made), (None, None));
        let read = get(&store, &user).expect("read");
        let view = serde_json::to_value(read.view(None)).expect("json");
        assert_eq!(
            view,
            json!({"webhook_url": null, "webhook_secret_set": false, "time_zone": "UTC", "theme": "system"})
        );
        let (dark, _) = put(json!({"theme": "dark"}), "s5").expect("saved");
        assert_eq!(dark.theme, Theme::Dark);
        let (back, _) = put(json!({"time_zone": "UTC"}), "s6").expect("saved");
        assert_eq!(
            back.theme,
            Theme::System,
            "a PUT sets every field, the theme too"
        );
    }

    #[test]
    fn bad_settings_name_their_field() {
        let field = |body: Value| SettingsInput::parse(&body, false).map_err(|e| e.field);
        assert_eq!(
            field(json!({"webhook_url": "http://x.example"})),
            Err("webhook_url".into())
        );
        assert_eq!(field(json!({"webhook_url": 5})), Err("webhook_url".into()));
        assert_eq!(
            field(json!({"time_zone": "Mars/Base"})),
            Err("time_zone".into())
        );
        assert_eq!(
            field(json!({"rotate_webhook_secret": "yes"})),
            Err("rotate_webhook_secret".into())
        );
        assert_eq!(field(json!({"colour": "red"})), Err("colour".into()));
        assert_eq!(field(json!({"theme": "sepia"})), Err("theme".into()));
        assert_eq!(field(json!({"theme": true})), Err("theme".into()));
        assert_eq!(field(json!([])), Err("body".into()));
        let read_back = json!({"webhook_url": null, "webhook_secret_set": true, "time_zone": "UTC", "theme": "light"});
        assert!(
            SettingsInput::parse(&read_back, false).is_ok(),
            "a read can be sent back"
        );
    }
}
