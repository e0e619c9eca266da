//! Lambda mode: the runtime loop, with the invocation's deadline passed on
//! so that every request is answered before Lambda stops it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::accounts::Accounts;
use crate::request::handler;
use crate::request::response_url::{self, ResponseUrls};

/// Runs the Lambda runtime loop until the runtime stops the process.
pub async fn run(accounts: Arc<Accounts>) -> Result<(), lambda_runtime::Error> {
    let responses = response_url::client()?;
    let urls = ResponseUrls::checked(accounts.config().local_response_origin.clone());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (accounts, responses, urls) = (accounts.clone(), responses.clone(), urls.clone());
        async move {
            let deadline = deadline_of(event.context.deadline);
            let handled =
                handler::answer_event(accounts, event.payload, Some(deadline), &urls).await;
            let failures = handler::send_answers(&responses, &handled.answers).await;
            // Failing the invocation lets Lambda retry the delivery, and then
            // hand it to the dead-letter queue: a request that got no answer
            // must not pass as handled.
            match handled.unanswered.first().or(failures.first()) {
                Some(failure) => Err(lambda_runtime::Error::from(failure.clone())),
                None => Ok(()),
            }
        }
    }))
    .await
}

/// Turns the runtime's deadline (milliseconds since the epoch) into an instant.
fn deadline_of(deadline_ms: u64) -> tokio::time::Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    tokio::time::Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}
