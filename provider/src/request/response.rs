//! Responses to CloudFormation: a JSON body of at most 4096 bytes, PUT to the
//! pre-signed ResponseURL with an empty Content-Type, retried with backoff.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceResponse, CloudFormationCustomResourceResponseStatus,
};

use crate::request::event::ReplyTo;

/// CloudFormation refuses response bodies larger than this.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// How many times a response PUT is tried.
const SEND_ATTEMPTS: u32 = 5;
/// The first pause between tries; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const TRUNCATED: &str = " [truncated]";

/// A SUCCESS response.
pub fn success(
    reply_to: &ReplyTo,
    physical_id: &str,
    data: BTreeMap<String, String>,
) -> CloudFormationCustomResourceResponse {
    let mut response = base(reply_to, physical_id);
    response.status = CloudFormationCustomResourceResponseStatus::Success;
    response.data = data.into_iter().collect::<HashMap<_, _>>();
    response
}

/// A FAILED response with `reason`.
pub fn failed(
    reply_to: &ReplyTo,
    physical_id: &str,
    reason: &str,
) -> CloudFormationCustomResourceResponse {
    let mut response = base(reply_to, physical_id);
    response.status = CloudFormationCustomResourceResponseStatus::Failed;
    response.reason = Some(reason.to_owned());
    response
}

fn base(reply_to: &ReplyTo, physical_id: &str) -> CloudFormationCustomResourceResponse {
    let mut response = CloudFormationCustomResourceResponse::default();
    response.physical_resource_id = physical_id.to_owned();
    response.stack_id = reply_to.stack_id.clone();
    response.request_id = reply_to.request_id.clone();
    response.logical_resource_id = reply_to.logical_resource_id.clone();
    response
}

/// The JSON body, at most [`MAX_RESPONSE_BYTES`]: the Reason is cut to fit.
/// Data is never cut: a response whose Data alone is too large becomes a
/// FAILED response that says so.
pub fn to_body(response: &CloudFormationCustomResourceResponse) -> Vec<u8> {
    let body = serialize(response);
    if body.len() <= MAX_RESPONSE_BYTES {
        return body;
    }
    let mut cut = response.clone();
    let reason = cut.reason.take().unwrap_or_default();
    let without_reason = serialize(&cut).len() + TRUNCATED.len() + 2;
    if without_reason <= MAX_RESPONSE_BYTES {
        // Escaping can make the reason longer than its characters: shrink until it fits.
        let mut budget = MAX_RESPONSE_BYTES - without_reason;
        loop {
            let mut end = budget.min(reason.len());
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            cut.reason = Some(format!("{}{TRUNCATED}", &reason[..end]));
            let body = serialize(&cut);
            if body.len() <= MAX_RESPONSE_BYTES || end == 0 {
                return body;
            }
            budget = end.saturating_sub(body.len() - MAX_RESPONSE_BYTES);
        }
    }
    let size = serialize(response).len();
    let mut too_large = cut.clone();
    too_large.status = CloudFormationCustomResourceResponseStatus::Failed;
    too_large.data = HashMap::new();
    too_large.reason = Some(format!(
        "the response is {size} bytes with its Data, over CloudFormation's limit of {MAX_RESPONSE_BYTES}; \
         this is a provider bug, please report it"
    ));
    let body = serialize(&too_large);
    if body.len() <= MAX_RESPONSE_BYTES {
        return body;
    }
    // Only a request whose own ids are kilobytes long gets here, and
    // CloudFormation never sends one: say so in a body that still fits.
    too_large.reason = Some(format!(
        "the request's ids are too long to repeat in a response of at most {MAX_RESPONSE_BYTES} bytes; \
         this is not a request CloudFormation sends"
    ));
    loop {
        let body = serialize(&too_large);
        let ids = [
            &mut too_large.physical_resource_id,
            &mut too_large.request_id,
            &mut too_large.logical_resource_id,
            &mut too_large.stack_id,
        ];
        let Some(longest) = ids.into_iter().max_by_key(|id| id.len()) else {
            return body;
        };
        if body.len() <= MAX_RESPONSE_BYTES || longest.is_empty() {
            return body;
        }
        let mut end = longest.len() / 2;
        while !longest.is_char_boundary(end) {
            end -= 1;
        }
        longest.truncate(end);
    }
}

fn serialize(response: &CloudFormationCustomResourceResponse) -> Vec<u8> {
    serde_json::to_vec(response).expect("a response always serializes")
}

/// PUTs `body` to the pre-signed `url`, retrying failures with exponential backoff.
pub async fn send(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<(), String> {
    let mut pause = FIRST_BACKOFF;
    let mut last_error = String::new();
    for attempt in 1..=SEND_ATTEMPTS {
        // CloudFormation's pre-signed URL is signed without a content type: send an empty one.
        let result = client
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "")
            .body(body.clone())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match result {
            Ok(answer) if answer.status().is_success() => return Ok(()),
            // A redirect is never followed (the client has no redirect
            // policy), and asking again will not change it.
            Ok(answer) if answer.status().is_redirection() => {
                return Err(format!(
                    "the ResponseURL answered HTTP {} (a redirect), which is never followed",
                    answer.status()
                ));
            }
            Ok(answer) => last_error = format!("HTTP {}", answer.status()),
            Err(e) => last_error = e.without_url().to_string(),
        }
        tracing::warn!(attempt, error = %last_error, "response PUT failed");
        if attempt < SEND_ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    Err(format!(
        "the response could not be sent after {SEND_ATTEMPTS} tries: {last_error}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_to() -> ReplyTo {
        ReplyTo {
            response_url: "http://127.0.0.1:1/r".into(),
            stack_id: "arn:aws:cloudformation:us-east-1:100000000001:stack/app/1".into(),
            request_id: "req".into(),
            logical_resource_id: "Alerts".into(),
            physical_resource_id: None,
        }
    }

    #[test]
    fn a_long_reason_is_cut_and_the_body_stays_json() {
        let reason = "é\"x".repeat(3000);
        let body = to_body(&failed(&reply_to(), "id", &reason));
        assert!(body.len() <= MAX_RESPONSE_BYTES, "{}", body.len());
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["Status"], "FAILED");
        assert!(parsed["Reason"].as_str().unwrap().ends_with(TRUNCATED));
    }

    #[test]
    fn data_is_never_cut_silently() {
        let data = BTreeMap::from([("Big".to_owned(), "x".repeat(5000))]);
        let body = to_body(&success(&reply_to(), "id", data));
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["Status"], "FAILED");
        assert!(
            parsed["Reason"]
                .as_str()
                .unwrap()
                .contains("over CloudFormation's limit")
        );
        assert!(body.len() <= MAX_RESPONSE_BYTES);
    }

    #[test]
    fn ids_too_long_for_any_response_are_cut_into_a_failed_one() {
        let mut reply_to = reply_to();
        reply_to.request_id = "\u{0}é".repeat(2000);
        reply_to.stack_id = "s".repeat(5000);
        let body = to_body(&success(&reply_to, &"p".repeat(3000), BTreeMap::new()));
        assert!(body.len() <= MAX_RESPONSE_BYTES, "{}", body.len());
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["Status"], "FAILED");
        assert!(
            parsed["Reason"]
                .as_str()
                .unwrap()
                .contains("ids are too long")
        );
    }

    #[test]
    fn a_small_response_is_untouched() {
        let data = BTreeMap::from([("Arn".to_owned(), "arn:x".to_owned())]);
        let body = to_body(&success(&reply_to(), "id", data));
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["Status"], "SUCCESS");
        assert_eq!(parsed["Data"]["Arn"], "arn:x");
        assert_eq!(parsed["PhysicalResourceId"], "id");
    }
}
