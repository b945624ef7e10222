//! Accounts (issue 11): sign up and sign in with a user name and a
//! password, for the web app. A password is kept only as its argon2id hash
//! (PHC string, OWASP's parameters: 19 MiB, 2 passes) at `account:{user}`;
//! signing in answers the same HS256 bearer token the API checks, valid for
//! [`TOKEN_SECONDS`], renewed while still valid ([`refresh`]) or by signing
//! in again. Teams that issue tokens from their own identity provider need
//! none of this.
//!
//! Failed sign-ins slow an account down ([`SignInLimits`], Spin variables
//! with safe defaults): after `sign_in_free_failures` (3) in a row, each
//! next try must wait twice as long as the one before (1 s, 2 s, 4 s, ...),
//! and after `sign_in_lock_after` (10) the account is locked for
//! `sign_in_locked_seconds` (900). A success clears the count.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use sql::{Database, SqlError};

use crate::UserId;
use crate::error::{FieldError, Problem, TaskError};
use crate::limits::{BadLimit, whole_number};
use crate::task::store::Storage;

/// How long a token from sign-in is valid, in seconds.
pub const TOKEN_SECONDS: i64 = 3600;
/// The shortest password taken.
pub const MIN_PASSWORD: usize = 8;
/// The longest password taken.
pub const MAX_PASSWORD: usize = 256;

/// How failed sign-ins in a row slow an account down, as the accounts
/// component's variables set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    /// Failed sign-ins in a row that cost nothing (`sign_in_free_failures`).
    pub free_failures: u32,
    /// Failed sign-ins in a row that lock the account (`sign_in_lock_after`).
    pub lock_after: u32,
    /// How long a locked account stays locked, in seconds
    /// (`sign_in_locked_seconds`).
    pub locked_seconds: i64,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            free_failures: 3,
            lock_after: 10,
            locked_seconds: 15 * 60,
        }
    }
}

impl SignInLimits {
    /// The limits the variables `sign_in_free_failures` (1 to 100),
    /// `sign_in_lock_after` (1 to 1,000) and `sign_in_locked_seconds` (1 to
    /// 86,400) set; an empty one keeps its default.
    pub fn from_variables<E: From<BadLimit>>(
        variable: impl Fn(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        let defaults = Self::default();
        let read = |name, default: u32, most| {
            whole_number(&variable, name, default.into(), most)
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        let locked = |name, default: i64| {
            whole_number(&variable, name, default.unsigned_abs(), 86_400)
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
        };
        Ok(Self {
            free_failures: read("sign_in_free_failures", defaults.free_failures, 100)?,
            lock_after: read("sign_in_lock_after", defaults.lock_after, 1_000)?,
            locked_seconds: locked("sign_in_locked_seconds", defaults.locked_seconds)?,
        })
    }

    /// How long from `now` an account whose last of `failures` failed
    /// sign-ins in a row was at `last` must wait before its next try, if at
    /// all.
    fn wait(&self, failures: u32, last: DateTime<Utc>, now: DateTime<Utc>) -> Option<Duration> {
        let pause = if failures >= self.lock_after {
            Duration::seconds(self.locked_seconds)
        } else if failures >= self.free_failures {
            Duration::seconds(1 << (failures - self.free_failures).min(20))
        } else {
            return None;
        };
        let until = last + pause;
        (until > now).then(|| until - now)
    }
}

/// What a sign-in reads of an account.
#[derive(Debug, Clone)]
struct Account {
    /// The argon2id hash of the password, as a PHC string.
    password_hash: String,
    /// Failed sign-ins in a row.
    failures: u32,
    /// When the last of them was.
    last_failure: Option<DateTime<Utc>>,
}

impl Account {
    fn read(storage: &Storage, user: &UserId) -> Result<Option<Self>, TaskError> {
        let rows = storage.query(
            "SELECT password_hash, failures, last_failure FROM accounts WHERE user_id = $1",
            &[user.as_str().into()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(Self {
            password_hash: row.text(0)?.to_owned(),
            failures: u32::try_from(row.int(1)?).unwrap_or(u32::MAX),
            last_failure: row.opt_int(2)?.and_then(DateTime::from_timestamp_micros),
        }))
    }
}

/// A user name and a password, as a sign-up or sign-in gives them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: UserId,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Parses `{"username", "password"}`; user names are taken in lower
    /// case, so that "Alice" and "alice" are one account.
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let Value::Object(fields) = body else {
            let expected = "a JSON object such as {\"username\": \"alice\", \"password\": \"...\"}";
            return Err(FieldError::new("body", Problem::WrongType { expected }));
        };
        if let Some(name) = fields
            .keys()
            .find(|k| !matches!(k.as_str(), "username" | "password"))
        {
            let known = "username, password";
            return Err(FieldError::new(
                name.clone(),
                Problem::UnknownField { known },
            ));
        }
        let text = |name: &str| match fields.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(FieldError::new(
                name,
                Problem::WrongType {
                    expected: "a string",
                },
            )),
            None => Err(FieldError::new(name, Problem::Missing)),
        };
        let username = text("username")?;
        let user = UserId::parse(&username.trim().to_lowercase()).ok_or_else(|| {
            let expected = "1 to 64 letters, digits, '-', '_', '.' or '@'";
            FieldError::new("username", Problem::WrongType { expected })
        })?;
        let password = text("password")?;
        let got = password.chars().count();
        if got < MIN_PASSWORD {
            return Err(FieldError::new(
                "password",
                Problem::TooShort {
                    min: MIN_PASSWORD,
                    got,
                },
            ));
        }
        if got > MAX_PASSWORD {
            return Err(FieldError::new(
                "password",
                Problem::TooLong {
                    max: MAX_PASSWORD,
                    got,
                },
            ));
        }
        Ok(Self { user, password })
    }
}

/// A signed-in user: the token to send as `Authorization: Bearer ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedIn {
    /// The user, as the API's paths name them.
    pub user_id: UserId,
    /// The bearer token.
    pub token: String,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
}

/// Why an account call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The user name is someone's already.
    #[error("the user name {0} is taken; choose another")]
    Taken(UserId),
    /// No such user, or the wrong password (not said which).
    #[error("wrong user name or password")]
    WrongCredentials,
    /// Too many failed sign-ins: wait this many seconds.
    #[error("too many failed sign-ins; try again in {0} seconds")]
    Wait(i64),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] TaskError),
}

impl From<SqlError> for AccountError {
    fn from(err: SqlError) -> Self {
        Self::Store(err.into())
    }
}

fn hasher() -> Argon2<'static> {
    Argon2::default()
}

/// Signs `credentials` up with `salt` (16 random bytes), answering a token
/// signed with `secret`.
pub fn sign_up(
    storage: &Storage,
    credentials: &Credentials,
    salt: [u8; 16],
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<SignedIn, AccountError> {
    let salt = SaltString::encode_b64(&salt).map_err(|e| TaskError::Unavailable(e.to_string()))?;
    let hash = hasher()
        .hash_password(credentials.password.as_bytes(), &salt)
        .map_err(|e| TaskError::Unavailable(format!("cannot hash: {e}")))?
        .to_string();
    let user = &credentials.user;
    let created = storage.execute(
        "INSERT INTO accounts (user_id, password_hash, created_at, failures) \
         VALUES ($1, $2, $3, 0) ON CONFLICT (user_id) DO NOTHING",
        &[
            user.as_str().into(),
            hash.into(),
            now.timestamp_micros().into(),
        ],
    )?;
    match created {
        0 => Err(AccountError::Taken(user.clone())),
        _ => sign(user, secret, now),
    }
}

/// Signs `credentials` in, answering a token signed with `secret`; failed
/// tries in a row are held to `limits`.
pub fn sign_in(
    storage: &Storage,
    credentials: &Credentials,
    limits: &SignInLimits,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<SignedIn, AccountError> {
    let user = &credentials.user;
    let password = credentials.password.as_bytes();
    let Some(account) = Account::read(storage, user)? else {
        // The same work as for an account, so that the time does not tell
        // which names exist.
        let _ = PasswordHash::new(DUMMY_HASH).map(|h| hasher().verify_password(password, &h));
        return Err(AccountError::WrongCredentials);
    };
    let wait = account
        .last_failure
        .and_then(|last| limits.wait(account.failures, last, now));
    if let Some(wait) = wait {
        return Err(AccountError::Wait(wait.num_seconds().max(1)));
    }
    let right = PasswordHash::new(&account.password_hash)
        .is_ok_and(|h| hasher().verify_password(password, &h).is_ok());
    if !right {
        // Counted in the database: failures at once are each counted.
        storage.execute(
            "UPDATE accounts SET failures = failures + 1, last_failure = $2 WHERE user_id = $1",
            &[user.as_str().into(), now.timestamp_micros().into()],
        )?;
        return Err(AccountError::WrongCredentials);
    }
    if account.failures > 0 {
        storage.execute(
            "UPDATE accounts SET failures = 0, last_failure = NULL WHERE user_id = $1",
            &[user.as_str().into()],
        )?;
    }
    sign(user, secret, now)
}

/// A new token for the user of a still valid one (`Authorization` header).
pub fn refresh(
    header: Option<&str>,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<SignedIn, auth::AuthError> {
    let user = auth::authenticate(header, secret, now)?;
    sign(&user, secret, now).map_err(|e| auth::AuthError::Invalid(e.to_string()))
}

fn sign(user: &UserId, secret: &[u8], now: DateTime<Utc>) -> Result<SignedIn, AccountError> {
    let token = auth::issue(user, secret, now, TOKEN_SECONDS).map_err(TaskError::Unavailable)?;
    Ok(SignedIn {
        user_id: user.clone(),
        token,
        expires_at: now + Duration::seconds(TOKEN_SECONDS),
    })
}

/// The hash of a password nobody has, checked when the user name is
/// unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$qhGYb1MyPEE+aES/CN6NCQDLQrWvmzyI+WAxnX2ZLmI";

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A database with the app's schema (SQLite in memory).
    fn storage() -> Storage {
        let db = sql::native::Sqlite::in_memory().expect("a database");
        Storage::of(Box::new(db)).expect("migrated")
    }

    const SECRET: &[u8] = b"secret";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    fn credentials(user: &str, password: &str) -> Credentials {
        Credentials::parse(&json!({"username": user, "password": password})).expect("valid")
    }

    #[test]
    fn names_are_unique_whatever_their_case_and_the_hash_is_argon2id() {
        let store = storage();
        let signed = sign_up(
            &store,
            &credentials("Alice", "correct horse"),
            [7; 16],
            SECRET,
            at(0),
        );
        assert_eq!(signed.as_ref().map(|s| s.user_id.as_str()), Ok("alice"));
        let again = sign_up(
            &store,
            &credentials("alice", "other password"),
            [8; 16],
            SECRET,
            at(1),
        );
        assert!(matches!(again, Err(AccountError::Taken(_))));
        let alice = UserId::parse("alice").expect("a user id");
        let stored = Account::read(&store, &alice)
            .ok()
            .flatten()
            .expect("stored");
        assert!(
            stored
                .password_hash
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        assert!(!stored.password_hash.contains("correct horse"));
    }

    /// Failed sign-ins against `limits`: free ones, then doubling waits,
    /// then the lock; a success clears the count.
    fn failures_slow_down_then_lock(limits: &SignInLimits) {
        let store = storage();
        let good = credentials("bob", "right password");
        let bad = credentials("bob", "wrong password");
        let sign_in = |who: &Credentials, t: i64| sign_in(&store, who, limits, SECRET, at(t));
        sign_up(&store, &good, [1; 16], SECRET, at(0)).expect("signed up");
        let mut t = 0;
        for _ in 0..limits.free_failures {
            t += 1;
            assert_eq!(sign_in(&bad, t), Err(AccountError::WrongCredentials));
        }
        // The next try right away must wait; after the pause it is heard.
        assert_eq!(sign_in(&good, t), Err(AccountError::Wait(1)));
        assert!(sign_in(&good, t + 1).is_ok(), "a success clears the count");
        // `lock_after` failures in a row lock it for `locked_seconds`.
        for n in 0..limits.lock_after {
            t += 1 << n.saturating_sub(limits.free_failures).min(20);
            let _ = sign_in(&bad, t);
        }
        let locked = sign_in(&good, t + 1);
        assert!(
            matches!(locked, Err(AccountError::Wait(s)) if s == limits.locked_seconds - 1),
            "{locked:?}"
        );
        assert!(sign_in(&good, t + limits.locked_seconds).is_ok());
        let nobody = credentials("nobody", "any password");
        assert_eq!(sign_in(&nobody, t), Err(AccountError::WrongCredentials));
    }

    #[test]
    fn failures_slow_down_then_lock_and_a_success_clears_them() {
        failures_slow_down_then_lock(&SignInLimits::default());
        let variables = crate::limits::variables(&[
            ("sign_in_free_failures", "1"),
            ("sign_in_lock_after", "2"),
            ("sign_in_locked_seconds", "120"),
        ]);
        let limits = SignInLimits::from_variables(variables).expect("valid");
        assert_eq!(
            (
                limits.free_failures,
                limits.lock_after,
                limits.locked_seconds
            ),
            (1, 2, 120)
        );
        failures_slow_down_then_lock(&limits);
    }

    #[test]
    fn sign_in_limits_keep_their_defaults_and_refuse_what_is_no_limit() {
        let none = crate::limits::variables(&[]);
        assert_eq!(
            SignInLimits::from_variables(none),
            Ok(SignInLimits::default())
        );
        for (name, value) in [
            ("sign_in_free_failures", "0"),
            ("sign_in_lock_after", "ten"),
            ("sign_in_locked_seconds", "86401"),
        ] {
            let variables = crate::limits::variables(&[(name, value)]);
            let err = SignInLimits::from_variables(variables).expect_err(value);
            assert_eq!((err.name, err.value.as_str()), (name, value));
        }
    }

    #[test]
    fn bad_credentials_name_the_field() {
        let field = |body: Value| Credentials::parse(&body).map_err(|e| e.field);
        assert_eq!(
            field(json!({"username": "a:b", "password": "long enough"})),
            Err("username".into())
        );
        assert_eq!(
            field(json!({"username": "alice", "password": "short"})),
            Err("password".into())
        );
        assert_eq!(field(json!({"username": "alice"})), Err("password".into()));
        assert_eq!(
            field(json!({"username": "alice", "password": "long enough", "x": 1})),
            Err("x".into())
        );
        assert!(!format!("{:?}", credentials("alice", "long enough")).contains("long enough"));
    }
}
