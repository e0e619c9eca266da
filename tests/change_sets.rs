//! `chatops plan --change-set`: a change set made in the local cloud's
//! CloudFormation for a deployed stack of our types, which CloudFormation
//! itself describes as a bare `Modify`, planned property by property with
//! the replacement it causes and the drift it sets back; then executed, to
//! see that it did what the plan said.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{ChangeSetStatus, Parameter};
use serde_json::Value;

use crate::support::stacks::*;
use crate::support::*;

const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ServiceToken: {Type: String}
  Suffix: {Type: String, Default: v1}
  Channel: {Type: String}
  WebhookLevel: {Type: String, Default: ERROR}
  WebhookUrl: {Type: String, NoEcho: true}
Resources:
  AlertsChannel:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: !Sub "${AWS::StackName}-${Suffix}"
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: !Ref Channel
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
      SnsTopicArns:
        - !Sub "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:chatops-alerts"
      LoggingLevel: ERROR
  Webhook:
    Type: Custom::ChatbotChimeWebhook
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: !Sub "${AWS::StackName}-chime"
      WebhookDescription: On-call room
      WebhookUrl: !Ref WebhookUrl
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
      SnsTopicArns:
        - !Sub "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:chatops-alerts"
      LoggingLevel: !Ref WebhookLevel
"#;

fn value(key: &str, value: &str) -> Parameter {
    Parameter::builder()
        .parameter_key(key)
        .parameter_value(value)
        .build()
}

fn previous(key: &str) -> Parameter {
    Parameter::builder()
        .parameter_key(key)
        .use_previous_value(true)
        .build()
}

fn chatops_plan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatops"))
        .arg("plan")
        .args(args)
        .envs(cloud().planner_env())
        .output()
        .expect("running chatops plan")
}

fn described(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn resource<'a>(plan: &'a Value, logical_id: &str) -> &'a Value {
    plan["accounts"][0]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["logical_id"] == logical_id)
        .unwrap_or_else(|| panic!("no {logical_id}: {plan:#}"))
}

fn change<'a>(resource: &'a Value, property: &str) -> &'a Value {
    resource["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["property"] == property)
        .unwrap_or_else(|| panic!("no change of {property}: {resource:#}"))
}

/// Waits until CloudFormation has finished making the change set.
async fn change_set_made(client: &aws_sdk_cloudformation::Client, id: &str) {
    let started = Instant::now();
    loop {
        let described = client
            .describe_change_set()
            .change_set_name(id)
            .send()
            .await
            .expect("DescribeChangeSet");
        match described.status() {
            Some(ChangeSetStatus::CreateComplete) => return,
            Some(ChangeSetStatus::Failed) => panic!("change set failed: {described:?}"),
            _ => {}
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{described:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_set_is_planned_property_by_property_with_replacement_and_drift() {
    let account = cloud().members()[2].clone();
    let client = cloudformation(&account).await;
    let token = deployment().await.topic_arn;
    let name = unique("changeset");
    let (old_channel, new_channel) = (unique_channel(), unique_channel());
    let webhook_url = format!(
        "https://hooks.chime.aws/incomingwebhooks/{}?token=secret{}",
        unique("room"),
        unique_channel()
    );
    let stack_id = client
        .create_stack()
        .stack_name(&name)
        .template_body(TEMPLATE)
        .parameters(value("ServiceToken", &token))
        .parameters(value("Channel", &old_channel))
        .parameters(value("WebhookUrl", &webhook_url))
        .send()
        .await
        .expect("CreateStack")
        .stack_id()
        .expect("StackId")
        .to_owned();
    assert_settled_in(&client, &stack_id, "CREATE_COMPLETE").await;
    let alerts_before = client
        .describe_stack_resource()
        .stack_name(&stack_id)
        .logical_resource_id("AlertsChannel")
        .send()
        .await
        .expect("DescribeStackResource")
        .stack_resource_detail()
        .and_then(|d| d.physical_resource_id())
        .expect("a physical id")
        .to_owned();

    // Drift: the alerts channel's logging level changed behind the stack's back.
    cloud()
        .chatbot(&account)
        .await
        .update_slack_channel_configuration()
        .chat_configuration_arn(&alerts_before)
        .slack_channel_id(&old_channel)
        .iam_role_arn(format!(
            "arn:aws:iam::{account}:role/chatops-chatbot-channel"
        ))
        .logging_level("INFO")
        .send()
        .await
        .expect("changing the configuration outside CloudFormation");

    // The change set: a new name and channel for the alerts channel (a
    // replacement), a new logging level for the webhook (an update).
    let change_set_name = unique("review");
    let change_set = client
        .create_change_set()
        .stack_name(&name)
        .change_set_name(&change_set_name)
        .use_previous_template(true)
        .parameters(previous("ServiceToken"))
        .parameters(value("Suffix", "v2"))
        .parameters(value("Channel", &new_channel))
        .parameters(value("WebhookLevel", "INFO"))
        .parameters(previous("WebhookUrl"))
        .send()
        .await
        .expect("CreateChangeSet")
        .id()
        .expect("the change set's ARN")
        .to_owned();
    change_set_made(&client, &change_set).await;

    // What CloudFormation shows: a Modify, no replacement, no drift.
    let own_view = client
        .describe_change_set()
        .change_set_name(&change_set)
        .send()
        .await
        .expect("DescribeChangeSet");
    let modify = own_view
        .changes()
        .iter()
        .filter_map(|c| c.resource_change())
        .find(|c| c.logical_resource_id() == Some("AlertsChannel"))
        .expect("AlertsChannel in the change set");
    assert_eq!(modify.action().map(|a| a.as_str()), Some("Modify"));
    assert_eq!(modify.replacement().map(|r| r.as_str()), Some("False"));

    // What the plan shows: by the change set's ARN alone.
    let planned = chatops_plan(&[
        "--change-set",
        &change_set,
        "--format",
        "json",
        "--detailed-exitcode",
    ]);
    assert_eq!(planned.status.code(), Some(2), "{}", described(&planned));
    let plan: Value = serde_json::from_slice(&planned.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", described(&planned)));
    assert_eq!(plan["change_set"]["id"], change_set.as_str(), "{plan:#}");
    assert_eq!(plan["change_set"]["name"], change_set_name.as_str());
    assert_eq!(plan["change_set"]["stack_id"], stack_id.as_str());
    assert_eq!(plan["change_set"]["execution_status"], "AVAILABLE");
    assert_eq!(plan["accounts"][0]["account_id"], account.as_str());

    let alerts = resource(&plan, "AlertsChannel");
    assert_eq!(alerts["action"], "replace", "{alerts:#}");
    assert_eq!(alerts["replacement_reasons"][0], "ConfigurationName");
    assert_eq!(alerts["problem"], Value::Null, "{alerts:#}");
    let renamed = change(alerts, "ConfigurationName");
    assert_eq!(renamed["before"], format!("{name}-v1").as_str());
    assert_eq!(renamed["after"], format!("{name}-v2").as_str());
    assert_eq!(renamed["forces_replacement"], true);
    let moved = change(alerts, "SlackChannelId");
    assert_eq!(moved["after"], new_channel.as_str());
    assert_eq!(alerts["drift"]["kind"], "modified", "{alerts:#}");
    let drifted = &alerts["drift"]["changes"][0];
    assert_eq!(
        (&drifted["property"], &drifted["before"], &drifted["after"]),
        (
            &Value::from("LoggingLevel"),
            &Value::from("ERROR"),
            &Value::from("INFO")
        )
    );
    let webhook = resource(&plan, "Webhook");
    assert_eq!(webhook["action"], "update", "{webhook:#}");
    let level = change(webhook, "LoggingLevel");
    assert_eq!(
        (&level["before"], &level["after"]),
        (&Value::from("ERROR"), &Value::from("INFO"))
    );

    // By name with the stack's StackId, as text and as Markdown: both say which change set.
    let text = chatops_plan(&[
        "--change-set",
        &change_set_name,
        "--stack-name",
        &stack_id,
        "--no-color",
    ]);
    assert_eq!(text.status.code(), Some(0), "{}", described(&text));
    let shown = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        shown.contains(&format!("change set {change_set_name} [{change_set}]")),
        "{shown}"
    );
    assert!(
        shown.contains("must be replaced (because of ConfigurationName)"),
        "{shown}"
    );
    let markdown = chatops_plan(&["--change-set", &change_set, "--format", "markdown"]);
    assert_eq!(markdown.status.code(), Some(0), "{}", described(&markdown));
    let comment = String::from_utf8_lossy(&markdown.stdout).into_owned();
    assert!(comment.contains(&format!("`{change_set}`")), "{comment}");
    assert!(
        comment.contains(&format!("| `{account}` | us-east-1 | 0 | 1 | 1 | 0 | 1 |")),
        "{comment}"
    );
    assert!(comment.contains("<details>"), "{comment}");
    for output in [&planned, &text, &markdown] {
        let all = described(output);
        assert!(
            !all.contains(&webhook_url),
            "the webhook URL is shown:\n{all}"
        );
        assert!(
            !all.contains("secretC"),
            "part of the webhook URL is shown:\n{all}"
        );
    }

    // Executed, the change set does what the plan said: a new configuration.
    client
        .execute_change_set()
        .change_set_name(&change_set)
        .send()
        .await
        .expect("ExecuteChangeSet");
    assert_settled_in(&client, &stack_id, "UPDATE_COMPLETE").await;
    let alerts_after = client
        .describe_stack_resource()
        .stack_name(&stack_id)
        .logical_resource_id("AlertsChannel")
        .send()
        .await
        .expect("DescribeStackResource")
        .stack_resource_detail()
        .and_then(|d| d.physical_resource_id())
        .expect("a physical id")
        .to_owned();
    assert_ne!(alerts_after, alerts_before);
    assert!(
        alerts_after.ends_with(&format!("{name}-v2")),
        "{alerts_after}"
    );

    client
        .delete_stack()
        .stack_name(&stack_id)
        .send()
        .await
        .expect("DeleteStack");
    assert_settled_in(&client, &stack_id, "DELETE_COMPLETE").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_set_that_creates_its_stack_plans_every_resource_as_a_create() {
    let account = cloud().members()[2].clone();
    let client = cloudformation(&account).await;
    let token = deployment().await.topic_arn;
    let name = unique("newstack");
    let webhook_url = format!(
        "https://hooks.chime.aws/incomingwebhooks/{}?token=secret{}",
        unique("room"),
        unique_channel()
    );
    let made = client
        .create_change_set()
        .stack_name(&name)
        .change_set_name("first")
        .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
        .template_body(TEMPLATE)
        .parameters(value("ServiceToken", &token))
        .parameters(value("Channel", &unique_channel()))
        .parameters(value("WebhookUrl", &webhook_url))
        .send()
        .await
        .expect("CreateChangeSet");
    let change_set = made.id().expect("the change set's ARN").to_owned();
    let stack_id = made.stack_id().expect("the stack's id").to_owned();
    change_set_made(&client, &change_set).await;

    let planned = chatops_plan(&["--change-set", "first", "--stack-name", &stack_id, "--json"]);
    assert_eq!(planned.status.code(), Some(0), "{}", described(&planned));
    let plan: Value = serde_json::from_slice(&planned.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", described(&planned)));
    assert_eq!(
        plan["deployed"],
        Value::Null,
        "nothing is deployed yet: {plan:#}"
    );
    assert_eq!(plan["change_set"]["stack_name"], name.as_str());
    for logical_id in ["AlertsChannel", "Webhook"] {
        assert_eq!(resource(&plan, logical_id)["action"], "create", "{plan:#}");
    }
    // The NoEcho URL: CloudFormation shows it as ****, the plan as a secret.
    let url = change(resource(&plan, "Webhook"), "WebhookUrl");
    assert_eq!(url["after_state"], "sensitive", "{url:#}");
    assert!(!described(&planned).contains(&webhook_url));

    client
        .delete_stack()
        .stack_name(&stack_id)
        .send()
        .await
        .expect("DeleteStack");
    assert_settled_in(&client, &stack_id, "DELETE_COMPLETE").await;
}
