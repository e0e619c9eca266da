//! Assumed-role credentials that recover when a service says they expired.
//!
//! The provider caches a target account's credentials while it is warm and
//! refreshes them well before their stated expiry, but a service may still
//! refuse them (`ExpiredToken`): a request that outlives them, a clock that
//! drifts, a session re-issued under the provider. Such a call is retried by
//! the SDK on credentials assumed anew, once per account context (one
//! request), so a request never fails for a reason no user can act on; an
//! expiry that comes back on the new credentials is reported, not looped on.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials};
use aws_sdk_sts::config::interceptors::InterceptorContext;
use aws_sdk_sts::config::retry::{ClassifyRetry, RetryAction};
use futures::future::BoxFuture;
use tokio::sync::Mutex;

use crate::error::Result;

/// How many times one account context assumes the role again after an expiry.
const MAX_RENEWALS: u32 = 1;

/// Assumes the role again: what [`RenewableCredentials`] calls after an expiry.
pub type Renew = Arc<dyn Fn() -> BoxFuture<'static, Result<Credentials>> + Send + Sync>;

/// Credentials for the clients of one account context, renewed through a
/// [`Renew`] function when a service answers `ExpiredToken`.
///
/// Use it as the SDK's credentials provider with no identity cache in front
/// (each attempt asks it, which costs a lock), and add
/// [`RenewableCredentials::retry_classifier`] to each client's configuration.
#[derive(Clone)]
pub struct RenewableCredentials {
    inner: Arc<Inner>,
}

struct Inner {
    current: Mutex<Credentials>,
    expired: AtomicBool,
    renewals: AtomicU32,
    renew: Renew,
}

impl RenewableCredentials {
    /// Starts from `credentials`; `renew` assumes the role again.
    pub fn new(credentials: Credentials, renew: Renew) -> Self {
        RenewableCredentials {
            inner: Arc::new(Inner {
                current: Mutex::new(credentials),
                expired: AtomicBool::new(false),
                renewals: AtomicU32::new(0),
                renew,
            }),
        }
    }

    /// The retry classifier that spots `ExpiredToken` answers, marks these
    /// credentials for renewal and has the SDK retry the call.
    pub fn retry_classifier(&self) -> ExpiredTokenClassifier {
        ExpiredTokenClassifier {
            credentials: self.clone(),
        }
    }

    /// How many times the role was assumed again.
    pub fn renewals(&self) -> u32 {
        self.inner.renewals.load(Ordering::SeqCst)
    }

    /// Marks the credentials expired; true when a renewal is still allowed.
    fn mark_expired(&self) -> bool {
        let allowed = self
            .inner
            .renewals
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_RENEWALS).then_some(n + 1)
            })
            .is_ok();
        if allowed {
            self.inner.expired.store(true, Ordering::SeqCst);
        }
        allowed
    }

    async fn current(&self) -> provider::Result {
        let mut current = self.inner.current.lock().await;
        if self.inner.expired.swap(false, Ordering::SeqCst) {
            tracing::warn!(
                "a service said the assumed-role credentials expired; assuming the role again"
            );
            *current = (self.inner.renew)()
                .await
                .map_err(provider::error::CredentialsError::provider_error)?;
        }
        Ok(current.clone())
    }
}

impl fmt::Debug for RenewableCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the credentials themselves.
        f.debug_struct("RenewableCredentials")
            .field("renewals", &self.renewals())
            .finish_non_exhaustive()
    }
}

impl ProvideCredentials for RenewableCredentials {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(self.current())
    }
}

/// Classifies an `ExpiredToken` answer as retryable once it has marked the
/// credentials for renewal (see [`RenewableCredentials`]).
#[derive(Debug, Clone)]
pub struct ExpiredTokenClassifier {
    credentials: RenewableCredentials,
}

impl ClassifyRetry for ExpiredTokenClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        let error_type = response
            .headers()
            .get("x-amzn-ErrorType")
            .unwrap_or_default();
        let body = response.body().bytes().unwrap_or_default();
        if is_expired_token(response.status().as_u16(), error_type, body)
            && self.credentials.mark_expired()
        {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "chatops expired assumed-role credentials"
    }
}

/// True for the answer of every AWS protocol to expired session credentials:
/// `ExpiredTokenException` in the `x-amzn-ErrorType` header or the JSON
/// `__type` (JSON protocols), `<Code>ExpiredToken</Code>` (query and XML).
pub fn is_expired_token(status: u16, error_type: &str, body: &[u8]) -> bool {
    if !(400..500).contains(&status) {
        return false;
    }
    if error_type.starts_with("ExpiredToken") {
        return true;
    }
    let text = String::from_utf8_lossy(body);
    text.contains("<Code>ExpiredToken</Code>")
        || text.contains("<Code>ExpiredTokenException</Code>")
        || serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("__type")?.as_str().map(str::to_owned))
            .is_some_and(|t| {
                t.rsplit('#')
                    .next()
                    .unwrap_or_default()
                    .starts_with("ExpiredToken")
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_token_answers_of_each_protocol_are_recognised() {
        assert!(is_expired_token(403, "ExpiredTokenException", b"{}"));
        assert!(is_expired_token(
            403,
            "ExpiredTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/",
            b""
        ));
        assert!(is_expired_token(
            403,
            "",
            b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code></Error></ErrorResponse>"
        ));
        assert!(is_expired_token(
            400,
            "",
            br#"{"__type":"com.amazonaws.organizations#ExpiredTokenException","message":"x"}"#
        ));
        assert!(!is_expired_token(500, "ExpiredTokenException", b""));
        assert!(!is_expired_token(403, "AccessDeniedException", b"{}"));
        assert!(!is_expired_token(
            400,
            "",
            br#"{"message":"the value ExpiredToken is fine here"}"#
        ));
    }

    #[tokio::test]
    async fn renews_once_and_only_after_an_expiry() {
        let calls = Arc::new(AtomicU32::new(0));
        let renew: Renew = {
            let calls = calls.clone();
            Arc::new(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                Box::pin(async move {
                    Ok(Credentials::new(
                        format!("ASIA{n}"),
                        "secret",
                        None,
                        None,
                        "test",
                    ))
                })
            })
        };
        let credentials = RenewableCredentials::new(
            Credentials::new("ASIA0", "secret", None, None, "test"),
            renew,
        );
        let key = |c: provider::Result| c.unwrap().access_key_id().to_owned();
        assert_eq!(key(credentials.provide_credentials().await), "ASIA0");
        assert_eq!(key(credentials.provide_credentials().await), "ASIA0");
        assert!(credentials.mark_expired());
        assert_eq!(key(credentials.provide_credentials().await), "ASIA1");
        assert_eq!(key(credentials.provide_credentials().await), "ASIA1");
        assert!(
            !credentials.mark_expired(),
            "a second expiry is not retried"
        );
        assert_eq!(key(credentials.provide_credentials().await), "ASIA1");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(!format!("{credentials:?}").contains("secret"));
    }
}
