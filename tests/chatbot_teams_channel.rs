//! Custom::ChatbotTeamsChannel through the real binary, what only this type
//! does: a channel id that is not URL-encoded, custom actions and defaults.
//! The lifecycle every type shares (with a team never configured in the
//! console as its failed Create) is in lifecycle.rs.

use serde_json::{Value, json};

use crate::support::*;

const TYPE: &str = "Custom::ChatbotTeamsChannel";
const CHANNEL: &str = "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2";

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
async fn a_raw_channel_id_is_refused_with_what_to_do() {
    let account = &cloud().members()[5];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let mut props = properties(account, &unique("teams-raw"));
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
