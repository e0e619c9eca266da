//! Custom::ChatbotSlackChannel through the real binary, what only this type
//! does: topics' subscriptions, one configuration per Slack channel, roles
//! and topics that are missing, custom actions and guardrails. The lifecycle
//! every type shares is in lifecycle.rs.

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

#[tokio::test(flavor = "multi_thread")]
async fn dropping_a_topic_removes_its_chatbot_subscription() {
    use crate::channel_guardrails::{chatbot_subscriptions, fresh_topic};
    let account = &cloud().members()[0];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let topic = fresh_topic(account, "eu-west-1").await;
    let mut props = properties(account, &unique("alerts"));
    props["SnsTopicArns"] = json!([cloud().account(account)["topics"]["us-east-1"], topic]);
    let arn = assert_success(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    assert_eq!(
        chatbot_subscriptions(account, "eu-west-1", &topic)
            .await
            .len(),
        1,
        "the topic has Chatbot's subscription"
    );

    let mut changed = props.clone();
    changed["SnsTopicArns"] = json!([cloud().account(account)["topics"]["us-east-1"]]);
    let updated = send(
        &mut lambda,
        stack.update("Alerts", &arn, &changed, &props),
        direct,
    )
    .await;
    assert_eq!(assert_success(&updated), arn);
    assert!(
        chatbot_subscriptions(account, "eu-west-1", &topic)
            .await
            .is_empty(),
        "the dropped topic lost its Chatbot subscription"
    );
    assert_success(&send(&mut lambda, stack.delete("Alerts", &arn, &changed), direct).await);
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
async fn another_stacks_configuration_for_the_same_channel_conflicts() {
    let account = &cloud().members()[2];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let props = properties(account, &unique("retried"));
    let first = assert_success(&send(&mut lambda, stack.create("Alerts", &props), direct).await);

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
            Stack::new(account, TYPE).create("Alerts", &same_channel),
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
    assert_success(&send(&mut lambda, stack.delete("Alerts", &first, &props), direct).await);
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
