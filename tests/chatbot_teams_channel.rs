//! Custom::ChatbotTeamsChannel through the real binary: create, update in
//! place, replacement, tolerant deletes, adoption, and a team that was never
//! configured in the console.

use serde_json::{Value, json};

use crate::support::*;

const TYPE: &str = "Custom::ChatbotTeamsChannel";
const CHANNEL: &str = "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2";
const OTHER_CHANNEL: &str = "19%3a0f9e8d7c6b5a49384756abcdef012345%40thread.tacv2";

fn properties(account: &str, name: &str) -> Value {
    let seeded = cloud().account(account);
    json!({
        "ConfigurationName": name,
        "TeamId": cloud().seed["teams_team_id"],
        "TeamsChannelId": CHANNEL,
        "TeamsChannelName": "alerts",
        "TeamsTenantId": cloud().seed["teams_tenant_id"],
        "IamRoleArn": seeded["chatbot_role_arn"],
        "SnsTopicArns": [seeded["topics"]["us-east-1"]],
        "LoggingLevel": "ERROR",
        "GuardrailPolicies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "UserRoleRequired": "true",
        "Tags": [{"Key": "team", "Value": "platform"}],
    })
}

async fn chatbot(account: &str) -> aws_sdk_chatbot::Client {
    cloud().chatbot(account).await
}

async fn get(
    account: &str,
    arn: &str,
) -> Option<aws_sdk_chatbot::types::TeamsChannelConfiguration> {
    match chatbot(account)
        .await
        .get_microsoft_teams_channel_configuration()
        .chat_configuration_arn(arn)
        .send()
        .await
    {
        Ok(output) => output.channel_configuration().cloned(),
        Err(e) if format!("{e:?}").contains("ResourceNotFound") => None,
        Err(e) => panic!("get failed: {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn create_update_replace_and_delete() {
    let account = &cloud().members()[5];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let name = unique("teams");
    let props = properties(account, &name);

    let created = send(&mut lambda, stack.create("Teams", &props), sns_wrapped).await;
    let arn = assert_success(&created);
    assert_eq!(
        arn,
        format!("arn:aws:chatbot::{account}:chat-configuration/microsoft-teams-channel/{name}")
    );
    assert_eq!(created["Data"]["Arn"], arn.as_str());
    assert_eq!(created["Data"]["ConfigurationName"], name.as_str());
    let live = get(account, &arn).await.expect("created configuration");
    assert_eq!(live.channel_id(), CHANNEL);
    assert_eq!(live.channel_name(), Some("alerts"));
    assert_eq!(live.team_id(), cloud().seed["teams_team_id"]);
    assert_eq!(live.tenant_id(), cloud().seed["teams_tenant_id"]);
    assert_eq!(
        live.guardrail_policy_arns(),
        ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    );
    assert_eq!(live.user_authorization_required(), Some(true));
    assert!(
        live.tags()
            .iter()
            .any(|t| t.tag_key() == "chatops:stack-id" && t.tag_value() == stack.stack_id)
    );

    let mut changed = props.clone();
    changed["TeamsChannelId"] = json!(OTHER_CHANNEL);
    changed["TeamsChannelName"] = json!("incidents");
    changed["LoggingLevel"] = json!("INFO");
    changed["GuardrailPolicies"] = json!([
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"
    ]);
    changed["UserRoleRequired"] = json!("false");
    changed["Tags"] = json!([{"Key": "team", "Value": "sre"}]);
    let updated = send(
        &mut lambda,
        stack.update("Teams", &arn, &changed, &props),
        direct,
    )
    .await;
    assert_eq!(
        assert_success(&updated),
        arn,
        "an update in place keeps the id"
    );
    let live = get(account, &arn).await.expect("updated configuration");
    assert_eq!(live.channel_id(), OTHER_CHANNEL);
    assert_eq!(live.channel_name(), Some("incidents"));
    assert_eq!(live.logging_level(), Some("INFO"));
    assert_eq!(live.guardrail_policy_arns().len(), 2);
    assert_eq!(live.user_authorization_required(), Some(false));
    assert!(
        live.tags()
            .iter()
            .any(|t| t.tag_key() == "team" && t.tag_value() == "sre")
    );

    let new_name = unique("teams-new");
    let mut renamed = changed.clone();
    renamed["ConfigurationName"] = json!(new_name);
    let new_arn = assert_success(
        &send(
            &mut lambda,
            stack.update("Teams", &arn, &renamed, &changed),
            direct,
        )
        .await,
    );
    assert_ne!(new_arn, arn);
    assert!(
        get(account, &arn).await.is_some(),
        "the old one stays until CloudFormation deletes it"
    );
    assert_eq!(
        get(account, &new_arn)
            .await
            .expect("replacement")
            .channel_id(),
        OTHER_CHANNEL
    );

    for (id, props) in [(&arn, &changed), (&new_arn, &renamed)] {
        assert_success(&send(&mut lambda, stack.delete("Teams", id, props), direct).await);
        assert!(get(account, id).await.is_none(), "{id} is gone");
    }
    assert_success(
        &send(
            &mut lambda,
            stack.delete("Teams", &new_arn, &renamed),
            direct,
        )
        .await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_change_that_keeps_the_name_is_refused() {
    let account = &cloud().members()[5];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let props = properties(account, &unique("teams-tenant"));
    let arn = assert_success(&send(&mut lambda, stack.create("Teams", &props), direct).await);

    let mut moved = props.clone();
    moved["TeamsTenantId"] = json!("00000000-0000-4000-8000-000000000000");
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.update("Teams", &arn, &moved, &props),
            direct,
        )
        .await,
    );
    assert!(
        reason.contains("TeamsTenantId") && reason.contains("new name"),
        "{reason}"
    );
    assert!(get(account, &arn).await.is_some(), "nothing changed");
    assert_success(&send(&mut lambda, stack.delete("Teams", &arn, &props), direct).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn retried_create_adopts_and_a_foreign_name_conflicts() {
    let account = &cloud().members()[5];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let props = properties(account, &unique("teams-retried"));
    let first = assert_success(&send(&mut lambda, stack.create("Teams", &props), direct).await);
    let second = assert_success(&send(&mut lambda, stack.create("Teams", &props), direct).await);
    assert_eq!(first, second, "a retried Create adopts what the first made");

    let reason = assert_failed(
        &send(
            &mut lambda,
            Stack::new(account, TYPE).create("Teams", &props),
            direct,
        )
        .await,
    );
    assert!(
        reason.contains("already exists") && reason.contains("choose another ConfigurationName"),
        "{reason}"
    );
    assert_success(&send(&mut lambda, stack.delete("Teams", &first, &props), direct).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_not_configured_in_the_console_is_refused_with_what_to_do() {
    let account = &cloud().members()[5];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let mut props = properties(account, &unique("teams-unknown"));
    props["TeamId"] = json!("0badc0de-0000-4000-8000-000000000000");
    let failed = send(&mut lambda, stack.create("Teams", &props), direct).await;
    let reason = assert_failed(&failed);
    assert!(
        reason.starts_with("not authorized:")
            && reason.contains("0badc0de-0000-4000-8000-000000000000")
            && reason.contains("AWS Chatbot console")
            && reason.contains("Microsoft Teams"),
        "{reason}"
    );
    let placeholder = failed["PhysicalResourceId"].as_str().unwrap();
    assert_success(
        &send(
            &mut lambda,
            stack.delete("Teams", placeholder, &props),
            direct,
        )
        .await,
    );

    props["TeamsChannelId"] = json!("19:raw@thread.tacv2");
    let reason = assert_failed(&send(&mut lambda, stack.create("Teams", &props), direct).await);
    assert!(
        reason.starts_with("invalid property TeamsChannelId:") && reason.contains("URL-encoded"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_actions_and_removing_optional_properties_restores_the_defaults() {
    use crate::chatbot_slack_channel::{associations, custom_action};
    let account = &cloud().members()[3];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let action = custom_action(account).await;
    let mut props = properties(account, &unique("teams-defaults"));
    props["CustomizationResourceArns"] = json!([action]);
    let arn = assert_success(&send(&mut lambda, stack.create("Teams", &props), direct).await);
    assert_eq!(
        associations(account, &arn).await,
        std::slice::from_ref(&action)
    );
    let live = get(account, &arn).await.expect("created");
    assert_eq!(live.logging_level(), Some("ERROR"));
    assert_eq!(live.user_authorization_required(), Some(true));

    let mut minimal = props.clone();
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
            stack.update("Teams", &arn, &minimal, &props),
            direct,
        )
        .await,
    );
    let live = get(account, &arn).await.expect("updated");
    assert_eq!(live.logging_level(), Some("NONE"));
    assert_eq!(
        live.guardrail_policy_arns(),
        ["arn:aws:iam::aws:policy/AdministratorAccess"]
    );
    assert_eq!(live.user_authorization_required(), Some(false));
    assert!(live.sns_topic_arns().is_empty());
    assert!(associations(account, &arn).await.is_empty());
    assert_success(&send(&mut lambda, stack.delete("Teams", &arn, &minimal), direct).await);
}
