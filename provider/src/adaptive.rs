//! How many calls to each AWS service are in flight at once, adapted to what
//! the service allows: more while calls succeed, half as many when it
//! throttles (additive increase, multiplicative decrease, as TCP paces a
//! connection).
//!
//! AWS services limit request rates with token buckets whose sizes are mostly
//! unpublished, and each service (and each caller account of it) has its own.
//! A fixed concurrency is either too low to use them or high enough to be
//! throttled; a limiter per service finds the rate: it starts at a few calls,
//! doubles while every call succeeds (slow start), and after the first
//! throttle grows by one call per round of calls and halves on the next.
//! One throttle halves the limit once: the other calls sent under the old
//! limit, throttled in the same burst, do not halve it again.
//!
//! The limiter sits in each service client's HTTP connector ([`Paced`]), so
//! it paces every attempt, the SDK's retries included, and sees the answer
//! before the SDK's retry policy does.

use std::sync::{Arc, Mutex, MutexGuard};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::Notify;

/// Calls in flight to one service when a limiter starts (or its ceiling, if lower).
pub const DEFAULT_START: usize = 16;
/// The most calls in flight to one service unless told otherwise.
pub const DEFAULT_CEILING: usize = 128;

/// The error codes with which AWS services say a caller is over its rate:
/// `Throttling` (query protocols: STS, CloudFormation; "Throttling: Rate
/// exceeded, status code: 400"), `TooManyRequestsException` (Organizations'
/// API model), `ThrottlingException` (JSON services; AWS Chatbot's and the
/// Support App's models declare none, and HTTP 429 says it too).
pub fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "RequestLimitExceeded"
            | "SlowDown"
    )
}

/// The services whose calls are paced apart: each has its own rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// AWS Chatbot.
    Chatbot,
    /// AWS Support App.
    SupportApp,
    /// CloudFormation (StackSets, stacks, change sets).
    CloudFormation,
    /// STS (AssumeRole into each account).
    Sts,
    /// Organizations (membership of accounts).
    Organizations,
}

impl Api {
    /// Every paced service.
    pub const ALL: [Api; 5] = [
        Api::Chatbot,
        Api::SupportApp,
        Api::CloudFormation,
        Api::Sts,
        Api::Organizations,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug)]
struct State {
    /// Calls allowed in flight; fractional while growing by 1/limit a success.
    limit: f64,
    in_flight: usize,
    ceiling: usize,
    /// Doubling (each success adds one) until the first throttle.
    slow_start: bool,
    /// Bumped at each decrease: a throttled call sent before it does not decrease again.
    generation: u64,
    throttles: u64,
    peak: usize,
}

/// The adaptive limit of the calls in flight to one service.
#[derive(Debug)]
pub struct Limiter {
    state: Mutex<State>,
    freed: Notify,
}

/// A call's place in flight; give it back with [`Permit::succeeded`] or
/// [`Permit::throttled`] (dropping it counts neither, as for a connection error).
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    generation: u64,
}

/// What a limiter has seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimiterStats {
    /// Calls allowed in flight now.
    pub limit: usize,
    /// The most calls that were in flight at once.
    pub peak: usize,
    /// Throttled answers.
    pub throttles: u64,
}

impl Limiter {
    /// A limiter that allows `start` calls at first and never more than `ceiling`.
    pub fn new(start: usize, ceiling: usize) -> Self {
        let ceiling = ceiling.max(1);
        Limiter {
            state: Mutex::new(State {
                limit: start.clamp(1, ceiling) as f64,
                in_flight: 0,
                ceiling,
                slow_start: true,
                generation: 0,
                throttles: 0,
                peak: 0,
            }),
            freed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent whatever panicked while it was held.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the most calls in flight; a lower ceiling also lowers the limit.
    pub fn set_ceiling(&self, ceiling: usize) {
        let mut state = self.state();
        state.ceiling = ceiling.max(1);
        state.limit = state.limit.min(state.ceiling as f64);
        drop(state);
        self.freed.notify_waiters();
    }

    /// Waits until a call may be sent.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the check, so a release in between is not missed.
            freed.as_mut().enable();
            {
                let mut state = self.state();
                if (state.in_flight as f64) < state.limit.floor() {
                    state.in_flight += 1;
                    state.peak = state.peak.max(state.in_flight);
                    return Permit {
                        limiter: self.clone(),
                        generation: state.generation,
                    };
                }
            }
            freed.await;
        }
    }

    /// What the limiter has seen.
    pub fn stats(&self) -> LimiterStats {
        let state = self.state();
        LimiterStats {
            limit: state.limit.floor() as usize,
            peak: state.peak,
            throttles: state.throttles,
        }
    }

    fn release(&self, outcome: Option<(bool, u64)>) {
        let mut state = self.state();
        state.in_flight -= 1;
        match outcome {
            Some((true, _)) => {
                let step = if state.slow_start {
                    1.0
                } else {
                    1.0 / state.limit
                };
                state.limit = (state.limit + step).min(state.ceiling as f64);
            }
            Some((false, generation)) => {
                state.throttles += 1;
                if generation == state.generation {
                    state.limit = (state.limit / 2.0).max(1.0);
                    state.slow_start = false;
                    state.generation += 1;
                }
            }
            None => {}
        }
        drop(state);
        self.freed.notify_waiters();
    }
}

impl Permit {
    /// The call was answered (whatever the answer, but a throttle).
    pub fn succeeded(self) {
        self.finish(Some(true));
    }

    /// The service said the caller is over its rate.
    pub fn throttled(self) {
        self.finish(Some(false));
    }

    fn finish(self, succeeded: Option<bool>) {
        let limiter = self.limiter.clone();
        let generation = self.generation;
        std::mem::forget(self);
        limiter.release(succeeded.map(|s| (s, generation)));
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.limiter.release(None);
    }
}

/// One limiter per service; clones share them.
#[derive(Debug, Clone)]
pub struct Pace {
    limiters: Arc<[Arc<Limiter>; 5]>,
}

impl Default for Pace {
    fn default() -> Self {
        Pace::new(DEFAULT_START, DEFAULT_CEILING)
    }
}

impl Pace {
    /// Limiters that start at `start` calls in flight, up to `ceiling`.
    pub fn new(start: usize, ceiling: usize) -> Self {
        Pace {
            limiters: Arc::new(Api::ALL.map(|_| Arc::new(Limiter::new(start, ceiling)))),
        }
    }

    /// The limiter of `api`.
    pub fn limiter(&self, api: Api) -> &Arc<Limiter> {
        &self.limiters[api.index()]
    }

    /// Sets the ceiling of every service's limiter.
    pub fn set_ceiling(&self, ceiling: usize) {
        for limiter in self.limiters.iter() {
            limiter.set_ceiling(ceiling);
        }
    }

    /// `http` with the calls it sends to `api` paced by this service's limiter.
    pub fn http_client(&self, api: Api, http: SharedHttpClient) -> SharedHttpClient {
        Paced {
            inner: http,
            limiter: self.limiter(api).clone(),
        }
        .into_shared()
    }
}

/// An HTTP client whose calls wait for the limiter of their service, and
/// tell it whether the service throttled them.
#[derive(Debug, Clone)]
pub struct Paced {
    inner: SharedHttpClient,
    limiter: Arc<Limiter>,
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    limiter: Arc<Limiter>,
}

impl HttpClient for Paced {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
        })
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        config: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_base_client_config(components, config)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, limiter) = (self.inner.clone(), self.limiter.clone());
        HttpConnectorFuture::new(async move {
            let permit = limiter.acquire().await;
            let mut response = inner.call(request).await?;
            let status = response.status().as_u16();
            if !(400..500).contains(&status) {
                permit.succeeded();
                return Ok(response);
            }
            // An error answer is small: read it to find its code, and hand the SDK a copy.
            let body = ByteStream::new(response.take_body())
                .collect()
                .await
                .map(|b| b.into_bytes())
                .unwrap_or_default();
            let error_type = response
                .headers()
                .get("x-amzn-errortype")
                .unwrap_or_default();
            if is_throttle(status, error_type, &body) {
                permit.throttled();
            } else {
                permit.succeeded();
            }
            *response.body_mut() = SdkBody::from(body);
            Ok(response)
        })
    }
}

/// True for a throttled answer of any AWS protocol: HTTP 429, or a
/// throttling code in the `x-amzn-ErrorType` header, the JSON `__type` or
/// `code`, or the XML `<Code>`.
pub fn is_throttle(status: u16, error_type: &str, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    let code_of = |text: &str| {
        // `Code:namespace` in the header, `namespace#Code` in JSON.
        let text = text.split(':').next().unwrap_or_default();
        text.rsplit('#').next().unwrap_or_default().to_owned()
    };
    if is_throttling_code(&code_of(error_type)) {
        return true;
    }
    let text = String::from_utf8_lossy(body);
    if let Some(code) = text
        .split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
    {
        return is_throttling_code(code.trim());
    }
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("__type")
                .or_else(|| v.get("code"))
                .and_then(|c| c.as_str())
                .map(code_of)
        })
        .is_some_and(|code| is_throttling_code(&code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn run(limiter: &Arc<Limiter>, successes: usize) {
        for _ in 0..successes {
            limiter.acquire().await.succeeded();
        }
    }

    #[tokio::test]
    async fn grows_while_calls_succeed_up_to_the_ceiling() {
        let limiter = Arc::new(Limiter::new(4, 10));
        run(&limiter, 4).await;
        assert_eq!(limiter.stats().limit, 8, "slow start: one more a success");
        run(&limiter, 20).await;
        assert_eq!(limiter.stats().limit, 10, "never above the ceiling");
    }

    #[tokio::test]
    async fn halves_on_a_throttle_then_grows_by_one_a_round() {
        let limiter = Arc::new(Limiter::new(8, 100));
        limiter.acquire().await.throttled();
        assert_eq!(limiter.stats().limit, 4);
        assert_eq!(limiter.stats().throttles, 1);
        // Additive now: four successes (a round at four in flight) add one.
        run(&limiter, 3).await;
        assert_eq!(limiter.stats().limit, 4);
        run(&limiter, 2).await;
        assert_eq!(limiter.stats().limit, 5);
    }

    #[tokio::test]
    async fn a_burst_of_throttles_halves_once() {
        let limiter = Arc::new(Limiter::new(8, 100));
        let mut permits = Vec::new();
        for _ in 0..8 {
            permits.push(limiter.acquire().await);
        }
        for permit in permits {
            permit.throttled();
        }
        let stats = limiter.stats();
        assert_eq!(
            (stats.limit, stats.throttles),
            (4, 8),
            "calls sent under the old limit do not halve it again"
        );
    }

    #[tokio::test]
    async fn never_below_one() {
        let limiter = Arc::new(Limiter::new(4, 100));
        for _ in 0..10 {
            limiter.acquire().await.throttled();
        }
        assert_eq!(limiter.stats().limit, 1);
        run(&limiter, 1).await;
    }

    #[tokio::test]
    async fn a_call_waits_for_a_place_in_flight() {
        let limiter = Arc::new(Limiter::new(1, 1));
        let first = limiter.acquire().await;
        let waiting = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(
            waiting.is_err(),
            "the second call waits while the first is in flight"
        );
        let second = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire().await.succeeded() })
        };
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the second call goes when the first is answered")
            .unwrap();
        assert_eq!(limiter.stats().peak, 1);
    }

    #[tokio::test]
    async fn each_service_has_its_own_limit() {
        let pace = Pace::new(8, 64);
        pace.limiter(Api::Sts).acquire().await.throttled();
        run(pace.limiter(Api::Chatbot), 2).await;
        assert_eq!(pace.limiter(Api::Sts).stats().limit, 4);
        assert_eq!(pace.limiter(Api::Chatbot).stats().limit, 10);
        for api in [Api::SupportApp, Api::CloudFormation, Api::Organizations] {
            assert_eq!(pace.limiter(api).stats().limit, 8, "{api:?}");
        }
        pace.set_ceiling(6);
        assert_eq!(pace.limiter(Api::Chatbot).stats().limit, 6);
        assert_eq!(pace.limiter(Api::Sts).stats().limit, 4);
    }

    #[test]
    fn throttled_answers_of_each_protocol_are_recognised() {
        // STS and CloudFormation (query protocol).
        assert!(is_throttle(
            400,
            "",
            b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"
        ));
        // Organizations (JSON 1.1).
        assert!(is_throttle(
            400,
            "",
            br#"{"__type":"com.amazonaws.organizations#TooManyRequestsException","Message":"slow down"}"#
        ));
        // REST JSON services (AWS Chatbot, the Support App).
        assert!(is_throttle(
            400,
            "ThrottlingException:http://internal.amazon.com/coral/",
            b"{}"
        ));
        assert!(is_throttle(429, "", b""));
        for other in [
            &b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>"[..],
            br#"{"__type":"AccountNotFoundException"}"#,
            b"",
        ] {
            assert!(!is_throttle(400, "", other));
        }
        assert!(!is_throttle(403, "LimitExceededException", b"{}"));
    }
}
