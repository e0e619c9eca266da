//! One event in, one answer per request out, whatever happens: a handler
//! error, a panic, or the Lambda deadline coming close all become FAILED
//! responses in time, or the stack would hang for an hour.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceResponse;
use serde_json::Value;
use tokio::time::Instant;
use tracing::Instrument;

use crate::accounts::Accounts;
use crate::error::Error;
use crate::registry;
use crate::request::event::{self, Request, RequestKind};
use crate::request::lifecycle::{self, Applied};
use crate::request::response;
use crate::request::response_url::ResponseUrls;

/// Time kept back from the deadline to send the response.
const MIN_RESPONSE_RESERVE: Duration = Duration::from_millis(500);
const MAX_RESPONSE_RESERVE: Duration = Duration::from_secs(10);

/// A request's answer and where it goes.
#[derive(Debug)]
pub struct Answer {
    /// The pre-signed URL (empty when the event had none).
    pub response_url: String,
    /// The response.
    pub response: CloudFormationCustomResourceResponse,
}

impl Answer {
    /// The body as sent: JSON of at most 4096 bytes.
    pub fn body(&self) -> Vec<u8> {
        response::to_body(&self.response)
    }
}

/// What an event got: the answers to send, and why any request got none.
#[derive(Debug, Default)]
pub struct Handled {
    /// One per request that may be answered.
    pub answers: Vec<Answer>,
    /// Why a request was not acted on and got no answer (no ResponseURL
    /// CloudFormation would use, or nothing readable at all): the invocation
    /// must fail, so that Lambda retries it and then hands it to the
    /// dead-letter queue, where an alarm sees it.
    pub unanswered: Vec<String>,
}

/// Handles every request in `event`; `deadline` is when Lambda stops the
/// invocation. A request whose ResponseURL `urls` refuses is not acted on.
pub async fn answer_event(
    accounts: Arc<Accounts>,
    event: Value,
    deadline: Option<Instant>,
    urls: &ResponseUrls,
) -> Handled {
    let mut handled = Handled::default();
    for request in event::requests_in(event) {
        match request {
            Ok(request) => match urls.check(&request.reply_to.response_url) {
                Ok(()) => {
                    let answer = answer(accounts.clone(), request, deadline).await;
                    handled.answers.push(answer);
                }
                Err(problem) => {
                    tracing::error!(
                        %problem,
                        request_id = %request.reply_to.request_id,
                        "request not acted on: its ResponseURL is not CloudFormation's"
                    );
                    handled.unanswered.push(format!(
                        "request {:?} was not acted on: {problem}",
                        request.reply_to.request_id
                    ));
                }
            },
            Err(unreadable) => {
                tracing::error!(error = %unreadable.error, "unreadable request");
                let Some(reply_to) = unreadable.reply_to else {
                    handled.unanswered.push(format!(
                        "a request could not be read and names no ResponseURL to answer: {}",
                        unreadable.error
                    ));
                    continue;
                };
                if let Err(problem) = urls.check(&reply_to.response_url) {
                    handled.unanswered.push(format!(
                        "a request could not be read ({}), and {problem}",
                        unreadable.error
                    ));
                    continue;
                }
                let physical_id = reply_to
                    .physical_resource_id
                    .clone()
                    .unwrap_or_else(|| lifecycle::placeholder_id(&reply_to.request_id));
                handled.answers.push(Answer {
                    response: response::failed(
                        &reply_to,
                        &physical_id,
                        &unreadable.error.to_string(),
                    ),
                    response_url: reply_to.response_url,
                });
            }
        }
    }
    handled
}

/// Handles one request in a task of its own, so that a panic or the deadline
/// still leaves time to answer.
pub async fn answer(
    accounts: Arc<Accounts>,
    request: Request,
    deadline: Option<Instant>,
) -> Answer {
    let shared = Arc::new(request);
    let work = {
        let request = shared.clone();
        // Boxed: the future of every type's lifecycle is deep, and the compiler's layout depth is not.
        Box::pin(async move {
            // Lets the end-to-end tests make the handler panic (`failpoints` builds only).
            fail::fail_point!("handler::dispatch");
            registry::dispatch(&accounts, &request).await
        })
    };
    answer_with(shared, deadline, work).await
}

/// Answers `request` with the outcome of `work`, which runs in a task of its
/// own: a panic in it, or `deadline` coming close, still yields a FAILED answer.
pub async fn answer_with<W>(request: Arc<Request>, deadline: Option<Instant>, work: W) -> Answer
where
    W: Future<Output = crate::Result<Applied>> + Send + 'static,
{
    let span = tracing::info_span!(
        "request",
        request_type = ?request.kind,
        resource_type = %request.resource_type,
        logical_id = %request.reply_to.logical_resource_id,
        request_id = %request.reply_to.request_id,
    );
    let task = tokio::spawn(work.instrument(span.clone()));
    let outcome = async {
        match deadline {
            Some(deadline) => {
                let remaining = deadline.saturating_duration_since(Instant::now());
                let reserve = (remaining / 10).clamp(MIN_RESPONSE_RESERVE, MAX_RESPONSE_RESERVE);
                let abort = task.abort_handle();
                match tokio::time::timeout(remaining.saturating_sub(reserve), task).await {
                    Ok(joined) => joined,
                    Err(_) => {
                        abort.abort();
                        Ok(Err(Error::Timeout(
                            "the Lambda deadline came close before the work was done; the next Delete or \
                             retried request finds anything made so far by its tags"
                                .into(),
                        )))
                    }
                }
            }
            None => task.await,
        }
    }
    .await;
    let _entered = span.enter();
    let result = outcome.unwrap_or_else(|join_error| {
        tracing::error!(panic = join_error.is_panic(), "the handler did not finish");
        Err(Error::Service {
            service: "chatops",
            operation: "handler",
            message:
                "internal error: the provider crashed while handling this request; please report it"
                    .into(),
        })
    });
    let response = match result {
        Ok(Applied { physical_id, data }) => {
            tracing::info!(%physical_id, "succeeded");
            response::success(&request.reply_to, &physical_id, data)
        }
        Err(error) => {
            let reason = redact(&error.to_string(), &secrets_of(&request));
            tracing::warn!(reason = %reason, "failed");
            response::failed(&request.reply_to, &failed_physical_id(&request), &reason)
        }
    };
    Answer {
        response_url: request.reply_to.response_url.clone(),
        response,
    }
}

/// A failed Update or Delete keeps its id; a failed Create answers a placeholder.
fn failed_physical_id(request: &Request) -> String {
    match (request.kind, &request.reply_to.physical_resource_id) {
        (RequestKind::Create, _) | (_, None) => {
            lifecycle::placeholder_id(&request.reply_to.request_id)
        }
        (_, Some(id)) => id.clone(),
    }
}

/// The values of the request's write-only properties, which must never be echoed.
fn secrets_of(request: &Request) -> Vec<String> {
    let names = registry::write_only_of(&request.resource_type);
    [Some(&request.properties), request.old_properties.as_ref()]
        .into_iter()
        .flatten()
        .flat_map(|props| {
            names
                .iter()
                .filter_map(|name| props.get(*name)?.as_str().map(str::to_owned))
        })
        .filter(|secret| !secret.is_empty())
        .collect()
}

/// Replaces every secret in `text` by `(sensitive)`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret.as_str(), "(sensitive)")
    })
}

/// Sends each answer to its ResponseURL with `client`; returns the failures.
/// A warm function keeps one client: making one loads the trusted roots.
pub async fn send_answers(client: &reqwest::Client, answers: &[Answer]) -> Vec<String> {
    let mut failures = Vec::new();
    for answer in answers {
        if answer.response_url.is_empty() {
            continue;
        }
        if let Err(error) = response::send(client, &answer.response_url, answer.body()).await {
            tracing::error!(%error, "response not delivered");
            failures.push(error);
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::event::ReplyTo;
    use serde_json::json;

    fn request(kind: RequestKind) -> Arc<Request> {
        Arc::new(Request {
            kind,
            reply_to: ReplyTo {
                response_url: "http://127.0.0.1:1/r".into(),
                stack_id: "arn:aws:cloudformation:us-east-1:100000000001:stack/app/1".into(),
                request_id: "req-7".into(),
                logical_resource_id: "Hook".into(),
                physical_resource_id: (kind != RequestKind::Create).then(|| "arn:old".into()),
            },
            resource_type: "Custom::ChatbotChimeWebhook".into(),
            properties: json!({"WebhookUrl": "https://hooks.chime.aws/incomingwebhooks/secret-token"}),
            old_properties: None,
        })
    }

    #[tokio::test]
    async fn a_panic_still_answers_failed_with_a_placeholder() {
        let answer = answer_with(request(RequestKind::Create), None, async {
            if true {
                panic!("boom");
            }
            Ok(Applied {
                physical_id: String::new(),
                data: Default::default(),
            })
        })
        .await;
        let body: serde_json::Value = serde_json::from_slice(&answer.body()).unwrap();
        assert_eq!(body["Status"], "FAILED");
        assert!(body["Reason"].as_str().unwrap().contains("crashed"));
        assert_eq!(body["PhysicalResourceId"], "chatops:create-failed:req-7");
    }

    #[tokio::test]
    async fn the_deadline_answers_failed_before_it_passes() {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(2);
        let answer = answer_with(request(RequestKind::Update), Some(deadline), async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(Applied {
                physical_id: "late".into(),
                data: Default::default(),
            })
        })
        .await;
        assert!(Instant::now() < deadline, "answered after the deadline");
        let body: serde_json::Value = serde_json::from_slice(&answer.body()).unwrap();
        assert_eq!(body["Status"], "FAILED");
        assert!(body["Reason"].as_str().unwrap().starts_with("timed out"));
        assert_eq!(
            body["PhysicalResourceId"], "arn:old",
            "a failed update keeps its id"
        );
    }

    fn offline_provider() -> Arc<Accounts> {
        let base = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("us-east-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        Arc::new(Accounts::new(
            crate::config::ProviderConfig::from_lookup(|_| None),
            base,
        ))
    }

    fn event_to(url: &str) -> Value {
        json!({
            "RequestType": "Delete", "ResponseURL": url,
            "StackId": "arn:aws:cloudformation:us-east-1:100000000001:stack/app/1",
            "RequestId": "req-9", "ResourceType": "Custom::ChatbotSlackChannel",
            "LogicalResourceId": "Alerts",
            "PhysicalResourceId": "arn:aws:chatbot::100000000001:chat-configuration/slack-channel/a",
            "ResourceProperties": {"ConfigurationName": "a"}
        })
    }

    #[tokio::test]
    async fn a_request_to_a_forged_url_is_not_acted_on_and_not_answered() {
        let urls = ResponseUrls::checked(None);
        let handled = answer_event(
            offline_provider(),
            event_to("http://127.0.0.1:9/2018-06-01/runtime/invocation/x/response"),
            None,
            &urls,
        )
        .await;
        assert!(handled.answers.is_empty());
        assert_eq!(handled.unanswered.len(), 1);
        assert!(
            handled.unanswered[0].contains("\"req-9\" was not acted on"),
            "{:?}",
            handled.unanswered
        );
        // Unreadable, with no ResponseURL at all: no answer, so the invocation must fail.
        let sns = json!({"Records": [{"Sns": {"Message": "[[[["}}]});
        let handled = answer_event(offline_provider(), sns, None, &urls).await;
        assert!(handled.answers.is_empty());
        assert_eq!(handled.unanswered.len(), 1, "{:?}", handled.unanswered);
    }

    #[tokio::test]
    async fn a_request_to_cloudformations_url_is_answered() {
        let url = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/k?X-Amz-Signature=s";
        let mut event = event_to(url);
        // A Delete whose properties this provider never made: answered without a call.
        event["ResourceProperties"] = json!({"ConfigurationName": 7});
        let handled = answer_event(
            offline_provider(),
            event,
            None,
            &ResponseUrls::checked(None),
        )
        .await;
        assert!(handled.unanswered.is_empty(), "{:?}", handled.unanswered);
        assert_eq!(handled.answers.len(), 1);
        assert_eq!(handled.answers[0].response_url, url);
    }

    #[test]
    fn redact_replaces_every_secret() {
        let secrets = vec!["s3cr3t".to_owned(), "t0ken".to_owned()];
        assert_eq!(
            redact("a s3cr3t and t0ken, s3cr3t", &secrets),
            "a (sensitive) and (sensitive), (sensitive)"
        );
    }
}
