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

/// This process, a counter and the clock's nanoseconds: no two calls, and no
/// two test processes sharing a cloud, get the same.
fn stamp() -> (u32, u64, u32) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    (std::process::id(), n, nanos)
}

/// A name no other test uses, for resources and stacks in the shared cloud.
pub fn unique(prefix: &str) -> String {
    let (pid, n, nanos) = stamp();
    format!("{prefix}-{pid}-{n}-{nanos:x}")
}

/// A Slack channel id no other test uses: AWS Chatbot allows one
/// configuration per channel in an account.
pub fn unique_channel() -> String {
    let (pid, n, nanos) = stamp();
    format!("C{pid:X}{n:X}{nanos:X}")
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

/// A loopback listener that stands for a URL the provider must never
/// contact: it counts the connections it gets, and answers each request 200.
pub struct Trap {
    /// `127.0.0.1:PORT`.
    pub address: String,
    contacts: std::sync::Arc<AtomicU64>,
}

impl Trap {
    /// Starts listening on a free loopback port.
    pub fn start() -> Trap {
        Trap::answering("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_owned())
    }

    /// Starts listening, answering every request with `reply` (a raw HTTP response).
    pub fn answering(reply: String) -> Trap {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a trap");
        let address = listener.local_addr().expect("trap address").to_string();
        let contacts = std::sync::Arc::new(AtomicU64::new(0));
        let counted = contacts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut stream = stream;
                let mut buffer = [0; 16384];
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Trap { address, contacts }
    }

    /// How many connections it got so far.
    pub fn contacts(&self) -> u64 {
        self.contacts.load(Ordering::SeqCst)
    }
}

/// The role session names the provider used in `account` so far (each names
/// the stack and logical id that asked): empty for a stack whose requests
/// never reached the account.
pub async fn sessions_in(account: &str) -> Vec<String> {
    let answer: Value = serde_json::from_slice(
        &reqwest::get(format!(
            "{}/_localcloud/sessions?account={account}",
            cloud().endpoint
        ))
        .await
        .expect("listing sessions")
        .bytes()
        .await
        .expect("sessions body"),
    )
    .expect("sessions JSON");
    answer["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["session_name"].as_str().map(str::to_owned))
        .collect()
}

/// The names of the Slack channel configurations in `account`.
pub async fn slack_configuration_names(account: &str) -> Vec<String> {
    cloud()
        .chatbot(account)
        .await
        .describe_slack_channel_configurations()
        .send()
        .await
        .expect("listing Slack channel configurations")
        .slack_channel_configurations()
        .iter()
        .map(|c| c.configuration_name().unwrap_or_default().to_owned())
        .collect()
}

/// The Slack channel configuration `arn` in `account`, or `None` once it is gone.
pub async fn slack_configuration(
    account: &str,
    arn: &str,
) -> Option<aws_sdk_chatbot::types::SlackChannelConfiguration> {
    match cloud()
        .chatbot(account)
        .await
        .describe_slack_channel_configurations()
        .chat_configuration_arn(arn)
        .send()
        .await
    {
        Ok(output) => output.slack_channel_configurations().first().cloned(),
        Err(e) if format!("{e:?}").contains("ResourceNotFound") => None,
        Err(e) => panic!("describe failed: {e:?}"),
    }
}

/// A Chatbot channel role in `account` with `policy` inline, tagged
/// `chatops:allow-elevated=true` by its owner when `owner_allows` (the test
/// acts as the account's administrator here, not as the provider).
pub async fn channel_role(account: &str, policy: &Value, owner_allows: bool) -> String {
    let iam = aws_sdk_iam::Client::new(&cloud().sdk_config_for(account).await);
    let name = unique("chatops-role");
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "chatbot.amazonaws.com"}, "Action": "sts:AssumeRole"
    }]});
    let mut create = iam
        .create_role()
        .role_name(&name)
        .assume_role_policy_document(trust.to_string());
    if owner_allows {
        create = create.tags(
            aws_sdk_iam::types::Tag::builder()
                .key("chatops:allow-elevated")
                .value("true")
                .build()
                .expect("a tag"),
        );
    }
    let arn = create
        .send()
        .await
        .expect("creating a role")
        .role()
        .expect("role")
        .arn()
        .to_owned();
    iam.put_role_policy()
        .role_name(&name)
        .policy_name("channel")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("adding an inline policy");
    arn
}
