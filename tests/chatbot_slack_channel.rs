//! Custom::ChatbotSlackChannel through the real binary: create, update in
//! place, replacement, deletes that must not get a stack stuck, adoption.

use serde_json::{Value, json};

use crate::support::*;

const TYPE: &str = "Custom::ChatbotSlackChannel";

fn properties(account: &str, name: &str) -> Value {
    let seeded = cloud().account(account);
    json!({
        "ConfigurationName": name,
        "SlackWorkspaceId": cloud().seed["slack_team_id"],
        "SlackChannelId": unique_channel(),
        "IamRoleArn": seeded["chatbot_role_arn"],
        "SnsTopicArns": [seeded["topics"]["us-east-1"], seeded["topics"]["eu-west-1"]],
        "LoggingLevel": "ERROR",
        "UserRoleRequired": "false",
        "Tags": [{"Key": "team", "Value": "platform"}],
    })
}

async fn chatbot(account: &str) -> aws_sdk_chatbot::Client {
    cloud().chatbot(account).await
}

async fn subscriptions(account: &str, region: &str) -> Vec<String> {
    let config = cloud().sdk_config_for(account).await;
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&config)
            .region(aws_config::Region::new(region.to_owned()))
            .build(),
    );
    let topic = cloud().account(account)["topics"][region]
        .as_str()
        .unwrap()
        .to_owned();
    sns.list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .expect("listing subscriptions")
        .subscriptions()
        .iter()
        .filter_map(|s| s.endpoint().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_update_in_place_and_delete() {
    let account = &cloud().members()[0];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let name = unique("alerts");
    let props = properties(account, &name);

    let created = send(&mut lambda, stack.create("Alerts", &props), direct).await;
    let arn = assert_success(&created);
    assert_eq!(
        arn,
        format!("arn:aws:chatbot::{account}:chat-configuration/slack-channel/{name}")
    );
    assert_eq!(created["Data"]["Arn"], arn.as_str());
    assert_eq!(created["Data"]["ConfigurationName"], name.as_str());
    let live = slack_configuration(account, &arn)
        .await
        .expect("created configuration");
    assert_eq!(live.slack_channel_id(), props["SlackChannelId"]);
    assert_eq!(live.logging_level(), Some("ERROR"));
    assert_eq!(live.user_authorization_required(), Some(false));
    let tags = chatbot(account)
        .await
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let tag = |key: &str| {
        tags.tags()
            .iter()
            .find(|t| t.tag_key() == key)
            .map(|t| t.tag_value().to_owned())
    };
    assert_eq!(tag("team").as_deref(), Some("platform"));
    assert_eq!(
        tag("chatops:stack-id").as_deref(),
        Some(stack.stack_id.as_str())
    );
    assert_eq!(tag("chatops:logical-id").as_deref(), Some("Alerts"));

    let mut changed = props.clone();
    let oncall = unique_channel();
    changed["SlackChannelId"] = json!(oncall);
    changed["LoggingLevel"] = json!("INFO");
    changed["SnsTopicArns"] = json!([cloud().account(account)["topics"]["us-east-1"]]);
    changed["Tags"] = json!([{"Key": "team", "Value": "sre"}]);
    let updated = send(
        &mut lambda,
        stack.update("Alerts", &arn, &changed, &props),
        direct,
    )
    .await;
    assert_eq!(
        assert_success(&updated),
        arn,
        "an update in place keeps the id"
    );
    let live = slack_configuration(account, &arn)
        .await
        .expect("updated configuration");
    assert_eq!(live.slack_channel_id(), oncall);
    assert_eq!(live.logging_level(), Some("INFO"));
    assert_eq!(live.sns_topic_arns().len(), 1);
    assert!(
        !subscriptions(account, "eu-west-1")
            .await
            .iter()
            .any(|e| e.contains("chatbot")),
        "the dropped topic lost its Chatbot subscription"
    );
    let tags = chatbot(account)
        .await
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.tag_key() == "team" && t.tag_value() == "sre")
    );
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.tag_key() == "chatops:logical-id")
    );

    let deleted = send(&mut lambda, stack.delete("Alerts", &arn, &changed), direct).await;
    assert_eq!(assert_success(&deleted), arn);
    assert!(
        slack_configuration(account, &arn).await.is_none(),
        "deleted configuration is gone"
    );

    let again = send(&mut lambda, stack.delete("Alerts", &arn, &changed), direct).await;
    assert_success(&again);
}

#[tokio::test(flavor = "multi_thread")]
async fn replacement_creates_new_then_old_is_deleted() {
    let account = &cloud().members()[1];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let old_props = properties(account, &unique("old"));
    let old_arn =
        assert_success(&send(&mut lambda, stack.create("Alerts", &old_props), sns_wrapped).await);

    let new_name = unique("new");
    let new_props = properties(account, &new_name);
    let replaced = send(
        &mut lambda,
        stack.update("Alerts", &old_arn, &new_props, &old_props),
        sns_wrapped,
    )
    .await;
    let new_arn = assert_success(&replaced);
    assert_ne!(new_arn, old_arn, "a replacement answers a new physical id");
    assert!(new_arn.ends_with(&new_name));
    assert!(
        slack_configuration(account, &old_arn).await.is_some(),
        "the old one stays until CloudFormation deletes it"
    );
    assert!(slack_configuration(account, &new_arn).await.is_some());

    // CloudFormation then deletes the old id, with the old properties.
    assert_success(
        &send(
            &mut lambda,
            stack.delete("Alerts", &old_arn, &old_props),
            sns_wrapped,
        )
        .await,
    );
    assert!(slack_configuration(account, &old_arn).await.is_none());
    assert!(slack_configuration(account, &new_arn).await.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn replacement_that_keeps_the_name_is_refused_and_nothing_changes() {
    let account = &cloud().members()[1];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let props = properties(account, &unique("same"));
    let arn = assert_success(&send(&mut lambda, stack.create("Alerts", &props), direct).await);

    let mut moved = props.clone();
    moved["SlackWorkspaceId"] = json!("T0OTHER9");
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.update("Alerts", &arn, &moved, &props),
            direct,
        )
        .await,
    );
    assert!(
        reason.contains("SlackWorkspaceId") && reason.contains("new name"),
        "{reason}"
    );
    assert!(
        slack_configuration(account, &arn).await.is_some(),
        "the existing configuration is untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn replacement_that_keeps_the_slack_channel_is_refused_and_nothing_changes() {
    let account = &cloud().members()[1];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let props = properties(account, &unique("kept"));
    let arn = assert_success(&send(&mut lambda, stack.create("Alerts", &props), direct).await);

    let mut renamed = props.clone();
    renamed["ConfigurationName"] = json!(unique("renamed"));
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.update("Alerts", &arn, &renamed, &props),
            direct,
        )
        .await,
    );
    assert!(
        reason.contains("one per SlackChannelId") && reason.contains("change SlackChannelId too"),
        "{reason}"
    );
    assert!(slack_configuration(account, &arn).await.is_some());
    let new_arn = arn.replace(
        props["ConfigurationName"].as_str().unwrap(),
        renamed["ConfigurationName"].as_str().unwrap(),
    );
    assert!(
        slack_configuration(account, &new_arn).await.is_none(),
        "nothing was made"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retried_create_adopts_and_a_foreign_name_conflicts() {
    let account = &cloud().members()[2];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let props = properties(account, &unique("retried"));
    let first = assert_success(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    let second = assert_success(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    assert_eq!(first, second, "a retried Create adopts what the first made");

    let other_stack = Stack::new(account, TYPE);
    let mut same_name = props.clone();
    same_name["SlackChannelId"] = json!(unique_channel());
    let reason = assert_failed(
        &send(
            &mut lambda,
            other_stack.create("Alerts", &same_name),
            direct,
        )
        .await,
    );
    assert!(
        reason.contains("already exists")
            && reason.contains("choose another ConfigurationName")
            && reason.contains("Adopt: true")
            && reason.contains("chatops import"),
        "{reason}"
    );
    let mut same_channel = props.clone();
    same_channel["ConfigurationName"] = json!(unique("taken"));
    let reason = assert_failed(
        &send(
            &mut lambda,
            other_stack.create("Alerts", &same_channel),
            direct,
        )
        .await,
    );
    assert!(
        reason.contains("one configuration per Slack channel")
            && reason.contains("choose another SlackChannelId"),
        "{reason}"
    );
    assert!(
        slack_configuration(account, &first).await.is_some(),
        "the other stack's configuration is untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_create_answers_a_placeholder_that_deletes_cleanly() {
    let account = &cloud().members()[0];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let mut props = properties(account, &unique("unauthorized"));
    props["SlackWorkspaceId"] = cloud().seed["unauthorized_slack_team_id"].clone();
    let failed = send(&mut lambda, stack.create("Alerts", &props), direct).await;
    let reason = assert_failed(&failed);
    assert!(
        reason.contains("not authorized for AWS Chatbot") && reason.contains("console"),
        "{reason}"
    );
    let placeholder = failed["PhysicalResourceId"].as_str().unwrap().to_owned();
    assert!(
        placeholder.starts_with("chatops:create-failed:"),
        "{placeholder}"
    );

    let deleted = send(
        &mut lambda,
        stack.delete("Alerts", &placeholder, &props),
        direct,
    )
    .await;
    assert_eq!(assert_success(&deleted), placeholder);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_role_and_topic_are_named() {
    let account = &cloud().members()[0];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let mut props = properties(account, &unique("norole"));
    props["IamRoleArn"] = json!(format!("arn:aws:iam::{account}:role/chatops-no-such-role"));
    let reason = assert_failed(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    assert!(
        reason.starts_with("invalid property IamRoleArn:") && reason.contains("does not exist"),
        "{reason}"
    );

    // A role the execution role may not read (outside ChannelRoleNamePrefix and ChannelRolePath):
    // IAM refuses, and the Reason names the action, the role session and the template to change.
    let mut props = properties(account, &unique("outside"));
    props["IamRoleArn"] = json!(format!(
        "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    ));
    let reason = assert_failed(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    assert!(
        reason.contains("not authorized to perform: iam:GetRole")
            && reason.contains(":assumed-role/ChatOpsExecutionRole/")
            && reason.contains("cfn-templates/member-role.yaml"),
        "{reason}"
    );

    let mut props = properties(account, &unique("wrongtrust"));
    props["IamRoleArn"] = cloud().account(account)["supportapp_role_arn"].clone();
    let reason = assert_failed(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    assert!(
        reason.contains("does not trust chatbot.amazonaws.com"),
        "{reason}"
    );

    let mut props = properties(account, &unique("notopic"));
    props["SnsTopicArns"] = json!([format!("arn:aws:sns:us-east-1:{account}:no-such-topic")]);
    let reason = assert_failed(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    assert!(
        reason.starts_with("invalid property SnsTopicArns/0:"),
        "{reason}"
    );
}

/// A custom action made in `account`, as a user makes one (CreateCustomAction).
pub(crate) async fn custom_action(account: &str) -> String {
    chatbot(account)
        .await
        .create_custom_action()
        .action_name(unique("action"))
        .definition(
            aws_sdk_chatbot::types::CustomActionDefinition::builder()
                .command_text("cloudwatch describe-alarms")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("creating a custom action")
        .custom_action_arn()
        .to_owned()
}

/// The custom actions associated with configuration `arn`.
pub(crate) async fn associations(account: &str, arn: &str) -> Vec<String> {
    chatbot(account)
        .await
        .list_associations()
        .chat_configuration(arn)
        .send()
        .await
        .expect("listing associations")
        .associations()
        .iter()
        .map(|a| a.resource().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_actions_and_removing_optional_properties_restores_the_defaults() {
    let account = &cloud().members()[2];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let first = custom_action(account).await;
    let second = custom_action(account).await;
    let mut props = properties(account, &unique("defaults"));
    props["GuardrailPolicies"] = json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    props["UserRoleRequired"] = json!("true");
    props["CustomizationResourceArns"] = json!([first]);
    let arn = assert_success(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    assert_eq!(
        associations(account, &arn).await,
        std::slice::from_ref(&first)
    );

    let mut swapped = props.clone();
    swapped["CustomizationResourceArns"] = json!([second]);
    assert_success(
        &send(
            &mut lambda,
            stack.update("Alerts", &arn, &swapped, &props),
            direct,
        )
        .await,
    );
    assert_eq!(
        associations(account, &arn).await,
        std::slice::from_ref(&second)
    );

    // Every optional property removed: the live configuration has the
    // service's defaults again, not the old values.
    let mut minimal = swapped.clone();
    for name in [
        "SnsTopicArns",
        "LoggingLevel",
        "GuardrailPolicies",
        "UserRoleRequired",
        "CustomizationResourceArns",
        "Tags",
    ] {
        minimal.as_object_mut().unwrap().remove(name);
    }
    assert_success(
        &send(
            &mut lambda,
            stack.update("Alerts", &arn, &minimal, &swapped),
            direct,
        )
        .await,
    );
    let live = slack_configuration(account, &arn).await.expect("updated");
    assert_eq!(live.logging_level(), Some("NONE"));
    assert_eq!(
        live.guardrail_policy_arns(),
        ["arn:aws:iam::aws:policy/AdministratorAccess"]
    );
    assert_eq!(live.user_authorization_required(), Some(false));
    assert!(live.sns_topic_arns().is_empty());
    assert!(associations(account, &arn).await.is_empty());
    let tags = chatbot(account)
        .await
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .all(|t| t.tag_key().starts_with("chatops:"))
    );

    // A custom action that does not exist is refused with what to do.
    let mut missing = minimal.clone();
    missing["CustomizationResourceArns"] = json!([format!(
        "arn:aws:chatbot::{account}:custom-action/no-such-action"
    )]);
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.update("Alerts", &arn, &missing, &minimal),
            direct,
        )
        .await,
    );
    assert!(
        reason.starts_with("invalid property CustomizationResourceArns:")
            && reason.contains("create-custom-action"),
        "{reason}"
    );
    assert_success(&send(&mut lambda, stack.delete("Alerts", &arn, &minimal), direct).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn service_role_guardrails_are_refused_as_the_api_refuses_them() {
    let account = &cloud().members()[2];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let mut props = properties(account, &unique("service-role"));
    props["GuardrailPolicies"] = json!([
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy"
    ]);
    let reason = assert_failed(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    assert!(
        reason.starts_with("invalid property GuardrailPolicies/1:")
            && reason.contains("aws-service-role/")
            && reason.contains("refuses"),
        "{reason}"
    );
}
