//! Shared helpers of the end-to-end tests: the local cloud, a local Lambda
//! runtime running the real `chatops` binary, and CloudFormation events.

#![allow(dead_code)]

pub mod lambda;
pub mod localcloud;
pub mod stacks;
pub mod supportapp;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

pub use lambda::{LocalLambda, Outcome};
pub use localcloud::{LocalCloud, cloud};

/// A name no other test uses, for resources and stacks in the shared cloud.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{n}-{nanos:x}", std::process::id())
}

/// A Slack channel id no other test uses: AWS Chatbot allows one
/// configuration per channel in an account.
pub fn unique_channel() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("C{:X}{n:X}{nanos:X}", std::process::id())
}

/// A CloudFormation stack in `account` that sends requests for one resource type.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The stack's account.
    pub account: String,
    /// Its StackId.
    pub stack_id: String,
    /// The `Custom::` type of the requests.
    pub resource_type: String,
}

impl Stack {
    /// A new stack with a unique name in `account`.
    pub fn new(account: &str, resource_type: &str) -> Stack {
        let name = unique("stack");
        Stack {
            account: account.to_owned(),
            stack_id: format!(
                "arn:aws:cloudformation:us-east-1:{account}:stack/{name}/{}",
                unique("guid")
            ),
            resource_type: resource_type.to_owned(),
        }
    }

    fn event(&self, request_type: &str, logical_id: &str, properties: &Value) -> Value {
        let mut properties = properties.clone();
        properties["ServiceToken"] = json!("arn:aws:sns:us-east-1:123456789012:chatops-provider");
        json!({
            "RequestType": request_type,
            "ServiceToken": "arn:aws:sns:us-east-1:123456789012:chatops-provider",
            "ResponseURL": "",
            "StackId": self.stack_id,
            "RequestId": unique("request"),
            "ResourceType": self.resource_type,
            "LogicalResourceId": logical_id,
            "ResourceProperties": properties,
        })
    }

    /// A Create request.
    pub fn create(&self, logical_id: &str, properties: &Value) -> Value {
        self.event("Create", logical_id, properties)
    }

    /// An Update request.
    pub fn update(
        &self,
        logical_id: &str,
        physical_id: &str,
        properties: &Value,
        old: &Value,
    ) -> Value {
        let mut event = self.event("Update", logical_id, properties);
        event["PhysicalResourceId"] = json!(physical_id);
        let mut old = old.clone();
        old["ServiceToken"] = json!("arn:aws:sns:us-east-1:123456789012:chatops-provider");
        event["OldResourceProperties"] = old;
        event
    }

    /// A Delete request.
    pub fn delete(&self, logical_id: &str, physical_id: &str, properties: &Value) -> Value {
        let mut event = self.event("Delete", logical_id, properties);
        event["PhysicalResourceId"] = json!(physical_id);
        event
    }
}

/// `request` as SNS delivers it to the Lambda function (a real envelope).
pub fn sns_wrapped(request: &Value) -> Value {
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:chatops-provider:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
            "Sns": {
                "Type": "Notification",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:chatops-provider",
                "Subject": "AWS CloudFormation custom resource request",
                "Message": request.to_string(),
                "Timestamp": "2026-11-27T12:00:00.000Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {}
            }
        }]
    })
}

/// Sends `request` to the function with a fresh ResponseURL and returns the
/// response CloudFormation receives. `wrap` turns the request into the event
/// (identity, or [`sns_wrapped`]).
pub async fn send(
    lambda: &mut LocalLambda,
    mut request: Value,
    wrap: fn(&Value) -> Value,
) -> Value {
    send_with_timeout(lambda, &mut request, wrap, Duration::from_secs(60)).await
}

/// [`send`] with the Lambda deadline `timeout` from now.
pub async fn send_with_timeout(
    lambda: &mut LocalLambda,
    request: &mut Value,
    wrap: fn(&Value) -> Value,
    timeout: Duration,
) -> Value {
    send_via(cloud(), lambda, request, wrap, timeout).await
}

/// [`send_with_timeout`] with the ResponseURL in `cloud`, such as a private
/// cloud of a test that injects faults. CloudFormation's state is staged
/// first, as if CloudFormation were sending the request.
pub async fn send_via(
    cloud: &LocalCloud,
    lambda: &mut LocalLambda,
    request: &mut Value,
    wrap: fn(&Value) -> Value,
    timeout: Duration,
) -> Value {
    cloud.stage(request, None).await;
    send_forged(cloud, lambda, request, wrap, timeout).await
}

/// Sends `request` as anyone in the organization could publish it to the
/// topic: nothing in CloudFormation stands behind it.
pub async fn send_forged(
    cloud: &LocalCloud,
    lambda: &mut LocalLambda,
    request: &mut Value,
    wrap: fn(&Value) -> Value,
    timeout: Duration,
) -> Value {
    let (url, key) = cloud.response_url().await;
    request["ResponseURL"] = json!(url);
    let event = wrap(request);
    let outcome = tokio::task::block_in_place(|| lambda.invoke(event, timeout));
    assert!(
        matches!(outcome, Outcome::Response(_)),
        "invocation failed: {outcome:?}\n{}",
        lambda.logs()
    );
    cloud.response(&key).await
}

/// The identity wrapper: a direct Lambda invocation.
pub fn direct(request: &Value) -> Value {
    request.clone()
}

/// A function running against the shared local cloud as the central provider.
pub fn provider_lambda(extra_env: &[(&str, &str)]) -> LocalLambda {
    let mut env = cloud().provider_env();
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    LocalLambda::start(&env)
}

/// Asserts a SUCCESS response and returns its PhysicalResourceId.
pub fn assert_success(response: &Value) -> String {
    assert_eq!(response["Status"], "SUCCESS", "{response:#}");
    response["PhysicalResourceId"]
        .as_str()
        .expect("PhysicalResourceId")
        .to_owned()
}

/// Asserts a FAILED response and returns its Reason.
pub fn assert_failed(response: &Value) -> String {
    assert_eq!(response["Status"], "FAILED", "{response:#}");
    response["Reason"].as_str().expect("Reason").to_owned()
}
