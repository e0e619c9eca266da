//! The execution role's credentials in each account: assumed once and
//! cached while warm, and recovered when a service says they expired.
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
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_config::identity::IdentityCache;
use aws_config::retry::ErrorKind;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials};
use aws_sdk_sts::config::SharedCredentialsProvider;
use aws_sdk_sts::config::interceptors::InterceptorContext;
use aws_sdk_sts::config::retry::{ClassifyRetry, RetryAction};
use futures::future::BoxFuture;
use tokio::sync::Mutex;

use crate::error::{Error, Result};

use super::{Accounts, Target};

/// Assumed-role credentials are refreshed this long before they expire.
const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(300);

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

    /// Marks the credentials expired, so that the next attempt renews them;
    /// false when they were renewed as often as allowed already. The SDK may
    /// classify one answer more than once, so this must be idempotent until
    /// the renewal happens.
    fn mark_expired(&self) -> bool {
        if self.renewals() >= MAX_RENEWALS {
            return false;
        }
        self.inner.expired.store(true, Ordering::SeqCst);
        true
    }

    async fn current(&self) -> provider::Result {
        let mut current = self.inner.current.lock().await;
        if self.inner.expired.swap(false, Ordering::SeqCst) {
            self.inner.renewals.fetch_add(1, Ordering::SeqCst);
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
            // New credentials are the remedy: no reason to wait before using them.
            RetryAction::retryable_error_with_explicit_delay(
                ErrorKind::TransientError,
                Duration::ZERO,
            )
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

pub(super) struct CachedCredentials {
    credentials: Credentials,
    expires: SystemTime,
}

impl Accounts {
    /// The execution role's credentials in `target`, after checking that it
    /// is an ACTIVE account of the organization; assumed again when a
    /// service says they expired.
    pub(super) async fn renewable_credentials(
        &self,
        target: &Target,
        session: &str,
    ) -> Result<RenewableCredentials> {
        self.check_membership(&target.account_id).await?;
        let credentials = self.credentials_for(target, session).await?;
        let renew: Renew = {
            let (accounts, target, session) = (self.clone(), target.clone(), session.to_owned());
            Arc::new(move || {
                let (accounts, target, session) =
                    (accounts.clone(), target.clone(), session.clone());
                Box::pin(async move {
                    accounts.credentials.lock().await.remove(&target.account_id);
                    accounts.credentials_for(&target, &session).await
                })
            })
        };
        Ok(RenewableCredentials::new(credentials, renew))
    }

    async fn credentials_for(&self, target: &Target, session: &str) -> Result<Credentials> {
        // The lock is not held across AssumeRole: a plan assumes roles in many
        // accounts at once, and one slow call must not hold up the others.
        if let Some(cached) = self.credentials.lock().await.get(&target.account_id) {
            if cached.expires > SystemTime::now() + CREDENTIALS_REFRESH_MARGIN {
                return Ok(cached.credentials.clone());
            }
        }
        let role_arn = format!(
            "arn:{}:iam::{}:role/{}",
            target.partition, target.account_id, self.config.execution_role_name
        );
        let mut request = self
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(session_name(session));
        if let Some(external_id) = &self.config.external_id {
            request = request.external_id(external_id);
        }
        let response = request.send().await.map_err(|e| {
            let code = aws_sdk_sts::error::ProvideErrorMetadata::code(&e).unwrap_or_default().to_owned();
            if code.starts_with("AccessDenied") {
                let message = aws_sdk_sts::error::ProvideErrorMetadata::message(&e).unwrap_or_default().to_owned();
                Error::AccessDenied(format!(
                    "the provider could not assume {role_arn} in account {} ({message}): check that the \
                     member-role StackSet is deployed there, that the role trusts the provider's role, \
                     that its ExternalId matches CHATOPS_EXTERNAL_ID, and that the provider's role may \
                     sts:AssumeRole it (cfn-templates/provider.yaml)",
                    target.account_id
                ))
            } else {
                Error::from_sdk("sts", "AssumeRole", &role_arn, e)
            }
        })?;
        let issued = response.credentials().ok_or_else(|| {
            Error::AccessDenied(format!("AssumeRole on {role_arn} returned no credentials"))
        })?;
        let expires = SystemTime::try_from(*issued.expiration())
            .unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(900));
        let credentials = Credentials::new(
            issued.access_key_id(),
            issued.secret_access_key(),
            Some(issued.session_token().to_owned()),
            Some(expires),
            "chatops-assume-role",
        );
        self.credentials.lock().await.insert(
            target.account_id.clone(),
            CachedCredentials {
                credentials: credentials.clone(),
                expires,
            },
        );
        Ok(credentials)
    }
}

/// `config` acting on `credentials`, asked at each attempt so that a renewal
/// is seen by the retry.
pub(super) fn on_renewable_credentials(
    config: &SdkConfig,
    credentials: &RenewableCredentials,
) -> SdkConfig {
    config
        .to_builder()
        .identity_cache(IdentityCache::no_cache())
        .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
        .build()
}

/// A role session name within STS's limits: 2–64 characters of `[\w+=,.@-]`.
fn session_name(wanted: &str) -> String {
    let mut name: String = wanted
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while name.len() < 2 {
        name.push('-');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};

    use crate::accounts::{Accounts, Target};
    use crate::config::ProviderConfig;
    use crate::error::Error;

    /// Calls seen by [`FakeAws`].
    #[derive(Default)]
    struct Seen {
        assume_role: AtomicU32,
        describe_workspaces: AtomicU32,
    }

    /// Organizations, STS and Chatbot on a loopback port, just enough for one
    /// account context: STS hands out ASIAFAKE1, ASIAFAKE2, ...; Chatbot
    /// answers ExpiredTokenException to ASIAFAKE1, or to every key.
    struct FakeAws {
        endpoint: String,
        seen: Arc<Seen>,
    }

    impl FakeAws {
        fn start(expire_every_key: bool) -> FakeAws {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let endpoint = format!("http://{}", listener.local_addr().unwrap());
            let seen = Arc::new(Seen::default());
            let shared = seen.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let seen = shared.clone();
                    std::thread::spawn(move || serve(stream, &seen, expire_every_key));
                }
            });
            FakeAws { endpoint, seen }
        }
    }

    fn serve(stream: TcpStream, seen: &Seen, expire_every_key: bool) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let (mut length, mut target, mut authorization) = (0, String::new(), String::new());
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                let Some((name, value)) = header.trim_end().split_once(':') else {
                    break;
                };
                let value = value.trim().to_owned();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse().unwrap(),
                    "x-amz-target" => target = value,
                    "authorization" => authorization = value,
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let body = String::from_utf8_lossy(&body);
            let (status, headers, reply) = if target.ends_with("DescribeAccount") {
                (
                    "200 OK",
                    "content-type: application/x-amz-json-1.1\r\n".to_owned(),
                    r#"{"Account":{"Id":"100000000001","Status":"ACTIVE"}}"#.to_owned(),
                )
            } else if body.contains("Action=AssumeRole") {
                let n = seen.assume_role.fetch_add(1, Ordering::SeqCst) + 1;
                (
                    "200 OK",
                    "content-type: text/xml\r\n".to_owned(),
                    format!(
                        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
                         <Credentials><AccessKeyId>ASIAFAKE{n}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>\
                         <SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
                         <AssumedRoleUser><Arn>arn:aws:sts::100000000001:assumed-role/R/s</Arn>\
                         <AssumedRoleId>AROAFAKE:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>\
                         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"
                    ),
                )
            } else if path.starts_with("/describe-slack-workspaces") {
                seen.describe_workspaces.fetch_add(1, Ordering::SeqCst);
                if expire_every_key || authorization.contains("Credential=ASIAFAKE1/") {
                    (
                        "403 Forbidden",
                        "content-type: application/json\r\nx-amzn-ErrorType: ExpiredTokenException\r\n"
                            .to_owned(),
                        r#"{"message":"The security token included in the request is expired"}"#.to_owned(),
                    )
                } else {
                    (
                        "200 OK",
                        "content-type: application/json\r\n".to_owned(),
                        r#"{"SlackWorkspaces":[]}"#.to_owned(),
                    )
                }
            } else {
                ("404 Not Found", String::new(), String::new())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\n\r\n",
                reply.len()
            );
            if writer
                .write_all(head.as_bytes())
                .and_then(|_| writer.write_all(reply.as_bytes()))
                .is_err()
            {
                return;
            }
        }
    }

    async fn provider_on(fake: &FakeAws) -> Accounts {
        let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&fake.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDFAKE", "secret", None, None, "test"))
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
            .load()
            .await;
        Accounts::new(ProviderConfig::from_lookup(|_| None), base)
    }

    fn target() -> Target {
        Target {
            account_id: "100000000001".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        }
    }

    #[tokio::test]
    async fn the_provider_assumes_the_role_again_when_a_call_finds_its_credentials_expired() {
        let fake = FakeAws::start(false);
        let accounts = provider_on(&fake).await;
        let ctx = accounts
            .account_context(&target(), "app-Alerts")
            .await
            .unwrap();
        ctx.chatbot
            .describe_slack_workspaces()
            .send()
            .await
            .unwrap();
        assert_eq!(fake.seen.assume_role.load(Ordering::SeqCst), 2);
        assert_eq!(fake.seen.describe_workspaces.load(Ordering::SeqCst), 2);

        // The renewed credentials are cached for the next request.
        let next = accounts
            .account_context(&target(), "app-Alerts")
            .await
            .unwrap();
        next.chatbot
            .describe_slack_workspaces()
            .send()
            .await
            .unwrap();
        assert_eq!(fake.seen.assume_role.load(Ordering::SeqCst), 2);
        assert_eq!(fake.seen.describe_workspaces.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn credentials_refused_again_after_renewal_fail_with_what_to_check() {
        let fake = FakeAws::start(true);
        let accounts = provider_on(&fake).await;
        let ctx = accounts
            .account_context(&target(), "app-Alerts")
            .await
            .unwrap();
        let error = ctx
            .chatbot
            .describe_slack_workspaces()
            .send()
            .await
            .unwrap_err();
        let error = Error::from_sdk(
            "chatbot",
            "DescribeSlackWorkspaces",
            "account 100000000001",
            error,
        );
        assert!(
            matches!(&error, Error::AccessDenied(m) if m.contains("refused as expired")),
            "{error}"
        );
        assert_eq!(
            fake.seen.assume_role.load(Ordering::SeqCst),
            2,
            "renewed once, not in a loop"
        );
        assert_eq!(fake.seen.describe_workspaces.load(Ordering::SeqCst), 2);
    }

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
        assert!(
            credentials.mark_expired(),
            "the same answer classified twice"
        );
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
    #[test]
    fn session_names_are_sanitised_and_bounded() {
        assert_eq!(session_name("app/Alerts"), "app-Alerts");
        assert_eq!(session_name(&"x".repeat(100)).len(), 64);
        assert_eq!(session_name(""), "--");
    }
}
