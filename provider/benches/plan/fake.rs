//! An in-process fake of the services a plan calls (Organizations, STS,
//! AWS Chatbot, the AWS Support App), behind the AWS SDK's HTTP client
//! interface: every call takes a latency, is admitted by the token bucket
//! of its API or answered as the service answers a throttled caller, then
//! answers canned JSON or XML for the operation, routed on X-Amz-Target, the
//! query Action or the REST path; reads it has no data for (other resource
//! types) find nothing. The plan code runs against it unchanged.
//!
//! The buckets are per caller, as AWS applies its rates: STS and
//! Organizations are called by the planner's own account (one bucket each
//! for the whole plan), AWS Chatbot and the Support App by each member
//! account's session (one bucket per account).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

/// Accounts in one ListAccounts page: the most its MaxResults allows (1 to 20,
/// Organizations API reference, ListAccounts).
pub const ACCOUNTS_PER_PAGE: usize = 20;

/// A token bucket: `rate` calls a second, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens added a second.
    pub per_second: f64,
    /// Tokens the bucket holds (and starts with).
    pub burst: f64,
}

/// The rates of the fake's APIs. AWS publishes none of them for these
/// operations (IAM and STS quotas list sizes, not request rates; the AWS
/// Security Blog's "How to monitor and query IAM resources at scale, part 2"
/// says STS uses token buckets whose sizes depend on the API; the quotas of
/// Organizations, AWS Chatbot and the Support App list no request rates): the
/// values are assumptions, in the range of the published rates of comparable
/// control plane reads (Account Management, GetAlternateContact: 10 a second,
/// burst 15, <https://docs.aws.amazon.com/accounts/latest/reference/quotas.html>;
/// Service Quotas: 5 to 10 a second,
/// <https://docs.aws.amazon.com/servicequotas/latest/userguide/reference_limits.html>).
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    /// STS AssumeRole, for the planner's account.
    pub sts: Rate,
    /// Organizations, for the organization.
    pub organizations: Rate,
    /// AWS Chatbot, per member account.
    pub chatbot: Rate,
    /// The Support App, per member account.
    pub supportapp: Rate,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            sts: Rate {
                per_second: 100.0,
                burst: 100.0,
            },
            organizations: Rate {
                per_second: 20.0,
                burst: 40.0,
            },
            chatbot: Rate {
                per_second: 10.0,
                burst: 15.0,
            },
            supportapp: Rate {
                per_second: 10.0,
                burst: 15.0,
            },
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: Rate) -> Self {
        Bucket {
            tokens: rate.burst,
            last: Instant::now(),
        }
    }

    fn take(&mut self, rate: Rate) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * rate.per_second;
        self.tokens = (self.tokens + refill).min(rate.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The service a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Service {
    Sts,
    Organizations,
    Chatbot,
    SupportApp,
}

/// Each account's Slack channel configurations, as DescribeSlackChannelConfigurations
/// returns them (with a `Tags` list of {TagKey, TagValue}).
pub type Configurations = Arc<dyn Fn(&str) -> Vec<Value> + Send + Sync>;

/// The fake services; clones share their state.
#[derive(Clone)]
pub struct FakeCloud {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FakeCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCloud").finish_non_exhaustive()
    }
}

struct Inner {
    latency: Duration,
    rates: Rates,
    accounts: Vec<String>,
    configurations: Configurations,
    calls: AtomicU64,
    throttles: AtomicU64,
    /// Seeds the latency's jitter.
    sequence: AtomicU64,
    shared_buckets: Mutex<HashMap<Service, Bucket>>,
    account_buckets: Mutex<HashMap<(Service, String), Bucket>>,
    by_operation: Mutex<HashMap<String, (u64, u64)>>,
}

impl FakeCloud {
    /// An organization of `accounts` where calls take `latency` on average
    /// (±20 %) and are admitted at `rates`.
    pub fn new(
        latency: Duration,
        rates: Rates,
        accounts: Vec<String>,
        configurations: Configurations,
    ) -> Self {
        FakeCloud {
            inner: Arc::new(Inner {
                latency,
                rates,
                accounts,
                configurations,
                calls: AtomicU64::new(0),
                throttles: AtomicU64::new(0),
                sequence: AtomicU64::new(0),
                shared_buckets: Mutex::default(),
                account_buckets: Mutex::default(),
                by_operation: Mutex::default(),
            }),
        }
    }

    /// Calls answered so far, throttled ones included.
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// Calls answered as throttled so far.
    pub fn throttles(&self) -> u64 {
        self.inner.throttles.load(Ordering::Relaxed)
    }

    /// Calls and throttles so far, by operation.
    pub fn calls_by_operation(&self) -> Vec<(String, u64, u64)> {
        let mut counts: Vec<(String, u64, u64)> = self
            .inner
            .by_operation
            .lock()
            .map(|m| m.iter().map(|(k, (c, t))| (k.clone(), *c, *t)).collect())
            .unwrap_or_default();
        counts.sort();
        counts
    }
}

impl HttpClient for FakeCloud {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for FakeCloud {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            let call = Call::of(&request);
            let admitted = inner.admit(call.service, &call.account);
            tokio::time::sleep(inner.jittered_latency()).await;
            let (status, content_type, body, error_type) = if admitted {
                let (status, content_type, body) = answer(&inner, &call);
                (status, content_type, body, None)
            } else {
                inner.throttles.fetch_add(1, Ordering::Relaxed);
                throttled(call.service)
            };
            inner.calls.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut counts) = inner.by_operation.lock() {
                let entry = counts.entry(call.operation).or_default();
                entry.0 += 1;
                entry.1 += u64::from(!admitted);
            }
            let status =
                StatusCode::try_from(status).map_err(|e| ConnectorError::other(e.into(), None))?;
            let mut response = HttpResponse::new(status, SdkBody::from(body));
            response.headers_mut().insert("content-type", content_type);
            if let Some(error_type) = error_type {
                response
                    .headers_mut()
                    .insert("x-amzn-errortype", error_type);
            }
            Ok(response)
        })
    }
}

impl Inner {
    fn admit(&self, service: Service, account: &str) -> bool {
        let rate = match service {
            Service::Sts => self.rates.sts,
            Service::Organizations => self.rates.organizations,
            Service::Chatbot => self.rates.chatbot,
            Service::SupportApp => self.rates.supportapp,
        };
        match service {
            Service::Sts | Service::Organizations => self
                .shared_buckets
                .lock()
                .map(|mut b| {
                    b.entry(service)
                        .or_insert_with(|| Bucket::new(rate))
                        .take(rate)
                })
                .unwrap_or(true),
            Service::Chatbot | Service::SupportApp => self
                .account_buckets
                .lock()
                .map(|mut b| {
                    b.entry((service, account.to_owned()))
                        .or_insert_with(|| Bucket::new(rate))
                        .take(rate)
                })
                .unwrap_or(true),
        }
    }

    /// The latency, ±20 %, spread evenly (a splitmix of the call's number).
    fn jittered_latency(&self) -> Duration {
        let mut x = self
            .sequence
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        let unit = (x % 10_000) as f64 / 10_000.0;
        self.latency.mul_f64(0.8 + 0.4 * unit)
    }
}

/// What a request is: its service, operation and calling account.
struct Call {
    service: Service,
    operation: String,
    account: String,
    body: String,
}

impl Call {
    fn of(request: &HttpRequest) -> Call {
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let account = signing_account(request).unwrap_or_default();
        if let Some(target) = request.headers().get("x-amz-target") {
            let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
            return Call {
                service: Service::Organizations,
                operation,
                account,
                body,
            };
        }
        if let Some(action) = form_value(&body, "Action") {
            return Call {
                service: Service::Sts,
                operation: action,
                account,
                body,
            };
        }
        let path = request.uri().split('?').next().unwrap_or_default();
        // The Support App's operations are under /control/ (its API model's URIs).
        let service = if path.contains("/control/") {
            Service::SupportApp
        } else {
            Service::Chatbot
        };
        Call {
            service,
            operation: path.rsplit('/').next().unwrap_or_default().to_owned(),
            account,
            body,
        }
    }
}

/// A throttled answer as each service sends it: status, content type, body,
/// and the `x-amzn-ErrorType` header of the JSON protocols.
fn throttled(service: Service) -> (u16, &'static str, String, Option<&'static str>) {
    match service {
        // Query protocol: "Throttling: Rate exceeded, status code: 400"
        // (<https://repost.aws/knowledge-center/iam-sts-throttling-error>).
        Service::Sts => (
            400,
            "text/xml",
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
             <Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>bench</RequestId></ErrorResponse>"
                .to_owned(),
            None,
        ),
        // The API model's TooManyRequestsException (JSON 1.1: HTTP 400).
        Service::Organizations => (
            400,
            "application/x-amz-json-1.1",
            json!({"__type": "TooManyRequestsException", "Message": "AWS Organizations can't complete your request because another request is already in progress. Try again later.", "Type": "TooManyRequests"}).to_string(),
            Some("TooManyRequestsException"),
        ),
        // Neither API model declares a throttling error: REST JSON services
        // behind AWS's front end answer HTTP 429 ThrottlingException.
        Service::Chatbot | Service::SupportApp => (
            429,
            "application/json",
            json!({"message": "Rate exceeded"}).to_string(),
            Some("ThrottlingException"),
        ),
    }
}

/// The account whose assumed-role keys signed `request`: the fake's STS
/// issues `ASIA<account>` access keys.
fn signing_account(request: &HttpRequest) -> Option<String> {
    let authorization = request.headers().get("authorization")?;
    let credential = authorization.split("Credential=").nth(1)?;
    let key = credential.split('/').next()?;
    key.strip_prefix("ASIA").map(str::to_owned)
}

fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn answer(inner: &Inner, call: &Call) -> (u16, &'static str, String) {
    match call.service {
        Service::Organizations => {
            let json_body: Value = serde_json::from_str(&call.body).unwrap_or(Value::Null);
            let account_json = |id: &str| {
                json!({"Id": id, "Arn": format!("arn:aws:organizations::123456789012:account/o-bench/{id}"),
                       "Name": id, "Email": format!("{id}@example.com"), "Status": "ACTIVE"})
            };
            let answer = match call.operation.as_str() {
                "DescribeAccount" => {
                    json!({"Account": account_json(json_body["AccountId"].as_str().unwrap_or_default())})
                }
                "ListAccounts" => {
                    let start: usize = json_body["NextToken"]
                        .as_str()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    let end = (start + ACCOUNTS_PER_PAGE).min(inner.accounts.len());
                    let page: Vec<Value> = inner.accounts[start..end]
                        .iter()
                        .map(|id| account_json(id))
                        .collect();
                    let mut answer = json!({"Accounts": page});
                    if end < inner.accounts.len() {
                        answer["NextToken"] = json!(end.to_string());
                    }
                    answer
                }
                // Any other read finds nothing.
                _ => json!({}),
            };
            (200, "application/x-amz-json-1.1", answer.to_string())
        }
        Service::Sts if call.operation == "AssumeRole" => {
            let role = form_value(&call.body, "RoleArn").unwrap_or_default();
            let account = role.split(':').nth(4).unwrap_or_default().to_owned();
            let xml = format!(
                "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
                 <Credentials><AccessKeyId>ASIA{account}</AccessKeyId><SecretAccessKey>fake-secret</SecretAccessKey>\
                 <SessionToken>fake-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
                 <AssumedRoleUser><AssumedRoleId>AROAFAKE:bench</AssumedRoleId><Arn>{role}</Arn></AssumedRoleUser>\
                 </AssumeRoleResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></AssumeRoleResponse>"
            );
            (200, "text/xml", xml)
        }
        Service::Sts => (
            400,
            "text/xml",
            "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>".into(),
        ),
        Service::Chatbot | Service::SupportApp => {
            match call.operation.as_str() {
                "describe-slack-channel-configurations" => {
                    let listed: Vec<Value> = (inner.configurations)(&call.account)
                        .into_iter()
                        .map(|mut c| {
                            if let Some(map) = c.as_object_mut() {
                                map.remove("Tags");
                            }
                            c
                        })
                        .collect();
                    (
                        200,
                        "application/json",
                        json!({"SlackChannelConfigurations": listed}).to_string(),
                    )
                }
                "list-tags-for-resource" => {
                    let json_body: Value = serde_json::from_str(&call.body).unwrap_or(Value::Null);
                    let arn = json_body["ResourceARN"].as_str().unwrap_or_default();
                    let tags = (inner.configurations)(&call.account)
                        .into_iter()
                        .find(|c| c["ChatConfigurationArn"] == arn)
                        .map(|c| c["Tags"].clone())
                        .unwrap_or_else(|| json!([]));
                    (200, "application/json", json!({"Tags": tags}).to_string())
                }
                // Any other read (the list operations of other types) finds nothing.
                _ => (200, "application/json", json!({}).to_string()),
            }
        }
    }
}
