//! `chatops invoke`: runs one event exactly as the Lambda function would and
//! prints each response body.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use super::{EXIT_ERROR, EXIT_OK, accounts_from_env};
use crate::accounts::Accounts;
use crate::request::handler;
use crate::request::response_url::{self, ResponseUrls};

/// Run one CloudFormation event (direct or SNS-wrapped) as Lambda would, and print the response JSON.
#[derive(Debug, clap::Args)]
pub struct Invoke {
    /// The event file (JSON).
    #[arg(long)]
    event: PathBuf,
    /// Print the response without PUTting it to the ResponseURL.
    #[arg(long)]
    no_send: bool,
}

impl Invoke {
    /// Runs the command with the provider configured from the environment,
    /// printing each response to `out`.
    pub async fn execute(self, out: &mut dyn Write) -> anyhow::Result<u8> {
        let text = std::fs::read_to_string(&self.event)
            .with_context(|| format!("cannot read event file {}", self.event.display()))?;
        let event: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", self.event.display()))?;
        self.answer(event, accounts_from_env().await, out).await
    }

    /// Answers `event` (the content of the event file) with `accounts`.
    async fn answer(
        self,
        event: serde_json::Value,
        accounts: Arc<Accounts>,
        out: &mut dyn Write,
    ) -> anyhow::Result<u8> {
        // With --no-send nothing is PUT, so any ResponseURL (or none) will do;
        // a response that is sent goes only where the Lambda would send it.
        let urls = if self.no_send {
            ResponseUrls::NotSent
        } else {
            ResponseUrls::checked(accounts.config().local_response_origin.clone())
        };
        let handled = handler::answer_event(accounts, event, None, &urls).await;
        for answer in &handled.answers {
            writeln!(out, "{}", String::from_utf8_lossy(&answer.body()))?;
        }
        if !handled.unanswered.is_empty() {
            anyhow::bail!(
                "{}: {}",
                self.event.display(),
                handled.unanswered.join("; ")
            );
        }
        if handled.answers.is_empty() {
            anyhow::bail!("{} holds no request", self.event.display());
        }
        if self.no_send {
            return Ok(EXIT_OK);
        }
        let failures = handler::send_answers(&response_url::client()?, &handled.answers).await;
        Ok(if failures.is_empty() {
            EXIT_OK
        } else {
            EXIT_ERROR
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use serde_json::json;

    use super::*;
    use crate::cli::Command;
    use crate::cli::testing::{file, parse, text};
    use crate::config::ProviderConfig;

    /// Account access that never reaches a network: each test's request is
    /// refused before any call.
    fn offline() -> Arc<Accounts> {
        let sdk = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            // Loopback, should a call slip through; none is made.
            .endpoint_url(crate::cli::testing::closed_port())
            .behavior_version(BehaviorVersion::latest())
            .build();
        Arc::new(Accounts::new(ProviderConfig::from_lookup(|_| None), sdk))
    }

    async fn run(event: serde_json::Value) -> (anyhow::Result<u8>, String) {
        let path = file("event.json", &event.to_string());
        let Command::Invoke(invoke) = parse(&[
            "invoke",
            "--event",
            path.to_str().expect("UTF-8"),
            "--no-send",
        ]) else {
            panic!("not the invoke command")
        };
        let mut out = Vec::new();
        let result = invoke.answer(event, offline(), &mut out).await;
        (result, text(out))
    }

    fn create(properties: serde_json::Value) -> serde_json::Value {
        json!({
            "RequestType": "Create",
            "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/key?X-Amz-Signature=EXAMPLE",
            "StackId": "arn:aws:cloudformation:us-east-1:100000000001:stack/app/5b1ac6b0-cc4e-11ef-8e5e-0affd3a1b2c3",
            "RequestId": "7a9c3f2e-4b1d-4c8e-9f6a-2d3e4f5a6b7c",
            "LogicalResourceId": "AlertsChannel",
            "ResourceType": "Custom::ChatbotSlackChannel",
            "ResourceProperties": properties,
        })
    }

    #[tokio::test]
    async fn no_send_prints_the_response_cloudformation_would_get() {
        let (result, printed) = run(create(json!({
            "ServiceToken": "arn:aws:sns:us-east-1:123456789012:chatops-provider",
            "ConfigurationName": "alerts",
            "SlackWorkspaceId": "T0CHATOPS1",
            "SlackChannelId": "C0ALERTS1",
            "IamRoleArn": "arn:aws:iam::100000000001:role/chatops-alerts",
            "LoggingLevel": "LOUD",
        })))
        .await;
        assert_eq!(result.unwrap(), EXIT_OK);
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines.len(), 1, "one response per line: {printed}");
        let response: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
        assert_eq!(response["Status"], "FAILED");
        assert!(
            response["Reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("invalid property LoggingLevel:")),
            "{response}"
        );
        assert_eq!(
            response["RequestId"],
            "7a9c3f2e-4b1d-4c8e-9f6a-2d3e4f5a6b7c"
        );
        assert_eq!(response["LogicalResourceId"], "AlertsChannel");
        assert_eq!(
            response["PhysicalResourceId"],
            "chatops:create-failed:7a9c3f2e-4b1d-4c8e-9f6a-2d3e4f5a6b7c"
        );
    }

    #[tokio::test]
    async fn an_event_without_a_request_is_an_error_and_prints_nothing() {
        let (result, printed) = run(json!({"Records": []})).await;
        let message = format!("{:#}", result.unwrap_err());
        assert!(message.contains("event.json"), "{message}");
        assert!(printed.is_empty(), "{printed}");
    }

    #[tokio::test]
    async fn an_event_file_that_is_not_json_is_refused_before_any_account_is_reached() {
        let path = file("event.json", "{ not json");
        let Command::Invoke(invoke) = parse(&[
            "invoke",
            "--event",
            path.to_str().expect("UTF-8"),
            "--no-send",
        ]) else {
            panic!("not the invoke command")
        };
        let mut out = Vec::new();
        let message = format!("{:#}", invoke.execute(&mut out).await.unwrap_err());
        assert!(message.contains("is not JSON"), "{message}");
        assert!(out.is_empty());
    }
}
