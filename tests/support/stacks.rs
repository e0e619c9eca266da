//! The provider deployed in the local cloud as in AWS: the real `chatops`
//! binary as a Lambda function subscribed to a ServiceToken topic of the
//! management account, so that stacks and StackSets made through the local
//! cloud's CloudFormation API end in it and back.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{Parameter, StackStatus};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::{LocalCloud, cloud, unique};

/// The function and its topic.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The ServiceToken: the topic the function is subscribed to.
    pub topic_arn: String,
    /// Where the function's logs go.
    pub log_path: String,
}

impl Deployment {
    /// The end of the function's log, to explain a failed stack.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let start = log.len().saturating_sub(4000);
        log.get(start..).unwrap_or_default().to_owned()
    }
}

/// The provider behind a topic of the shared local cloud, registered on first use.
pub async fn deployment() -> Deployment {
    static DEPLOYMENT: OnceCell<Deployment> = OnceCell::const_new();
    DEPLOYMENT
        .get_or_init(|| deploy_provider(cloud()))
        .await
        .clone()
}

/// Registers the provider as a function of `cloud`, subscribed to a new
/// ServiceToken topic of its management account.
pub async fn deploy_provider(cloud: &LocalCloud) -> Deployment {
    let name = unique("chatops-provider");
    let env: serde_json::Map<String, Value> = cloud
        .provider_env()
        .into_iter()
        .map(|(k, v)| (k, Value::from(v)))
        .chain([("RUST_LOG".to_owned(), Value::from("info"))])
        .collect();
    let spec = json!({
        "name": name,
        "command": [env!("CARGO_BIN_EXE_chatops")],
        "env": env,
        "timeout": 60,
    });
    let answer = reqwest::Client::new()
        .post(format!("{}/_localcloud/functions", cloud.endpoint))
        .body(spec.to_string())
        .send()
        .await
        .expect("registering the function");
    assert!(answer.status().is_success(), "function refused");
    let body = answer.bytes().await.expect("function description");
    let function: Value = serde_json::from_slice(&body).expect("function JSON");
    let sns = aws_sdk_sns::Client::new(&cloud.sdk_config().await);
    let topic_arn = sns
        .create_topic()
        .name(&name)
        .send()
        .await
        .expect("creating the ServiceToken topic")
        .topic_arn()
        .expect("topic ARN")
        .to_owned();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("lambda")
        .endpoint(function["arn"].as_str().expect("function ARN"))
        .send()
        .await
        .expect("subscribing the function");
    Deployment {
        topic_arn,
        log_path: function["log_path"].as_str().unwrap_or_default().to_owned(),
    }
}

/// A CloudFormation client acting in `account`.
pub async fn cloudformation(account: &str) -> aws_sdk_cloudformation::Client {
    let management = cloud().seed["management_account"]
        .as_str()
        .unwrap_or_default();
    let config = if account == management {
        cloud().sdk_config().await
    } else {
        cloud().sdk_config_for(account).await
    };
    aws_sdk_cloudformation::Client::new(&config)
}

/// Template parameters in the API's form.
pub fn parameters(values: &[(&str, &str)]) -> Vec<Parameter> {
    values
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(*k)
                .parameter_value(*v)
                .build()
        })
        .collect()
}

/// Waits until the stack leaves every `…_IN_PROGRESS` status and returns it.
pub async fn settled(
    client: &aws_sdk_cloudformation::Client,
    stack_id: &str,
) -> aws_sdk_cloudformation::types::Stack {
    let started = Instant::now();
    loop {
        let stacks = client
            .describe_stacks()
            .stack_name(stack_id)
            .send()
            .await
            .expect("describing the stack");
        let stack = stacks.stacks().first().cloned().expect("the stack");
        let status = stack
            .stack_status()
            .map(StackStatus::as_str)
            .unwrap_or_default();
        if !status.ends_with("_IN_PROGRESS") {
            return stack;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "stack {stack_id} still {status} after 3 minutes"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The stack's events, oldest first, one line each: what a reader needs when a status is wrong.
pub async fn events(client: &aws_sdk_cloudformation::Client, stack_id: &str) -> String {
    let answer = client
        .describe_stack_events()
        .stack_name(stack_id)
        .send()
        .await
        .expect("describing the events");
    answer
        .stack_events()
        .iter()
        .rev()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e.logical_resource_id().unwrap_or_default(),
                e.resource_status().map(|s| s.as_str()).unwrap_or_default(),
                e.physical_resource_id().unwrap_or_default(),
                e.resource_status_reason().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that the stack settled in `expected`, with its events and the function's log otherwise.
pub async fn assert_settled_in(
    client: &aws_sdk_cloudformation::Client,
    stack_id: &str,
    expected: &str,
) -> aws_sdk_cloudformation::types::Stack {
    let stack = settled(client, stack_id).await;
    let status = stack
        .stack_status()
        .map(StackStatus::as_str)
        .unwrap_or_default();
    if status != expected {
        panic!(
            "stack {stack_id} is {status}, not {expected}\n--- events\n{}\n--- function log\n{}",
            events(client, stack_id).await,
            deployment().await.log_tail()
        );
    }
    stack
}
