//! What every chat channel type checks before it calls the service, through
//! the real binary: the channel role's permissions against its guardrails
//! (Slack and Teams; Chime has its own test), SNS topics in other accounts
//! and regions of the organization, and raw message delivery on Chatbot's
//! subscription.

use serde_json::{Value, json};

use crate::support::*;

const SLACK: &str = "Custom::ChatbotSlackChannel";
const TEAMS: &str = "Custom::ChatbotTeamsChannel";
const CHATBOT_ENDPOINT: &str = "https://global.sns-api.chatbot.amazonaws.com";

fn slack(account: &str, name: &str) -> Value {
    let seeded = cloud().account(account);
    json!({
        "ConfigurationName": name,
        "SlackWorkspaceId": cloud().seed["slack_team_id"],
        "SlackChannelId": unique_channel(),
        "IamRoleArn": seeded["chatbot_role_arn"],
        "SnsTopicArns": [],
        "LoggingLevel": "ERROR",
    })
}

fn teams(account: &str, name: &str) -> Value {
    json!({
        "ConfigurationName": name,
        "TeamId": cloud().seed["teams_team_id"],
        "TeamsChannelId": "19%3aguardrails%40thread.tacv2",
        "TeamsTenantId": cloud().seed["teams_tenant_id"],
        "IamRoleArn": cloud().account(account)["admin_role_arn"],
    })
}

async fn sns(account: &str, region: &str) -> aws_sdk_sns::Client {
    let config = cloud().sdk_config_for(account).await;
    aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&config)
            .region(aws_config::Region::new(region.to_owned()))
            .build(),
    )
}

/// A topic of its own for a test, so that no other test sees its subscriptions.
pub(crate) async fn fresh_topic(account: &str, region: &str) -> String {
    sns(account, region)
        .await
        .create_topic()
        .name(unique("guardrails"))
        .send()
        .await
        .expect("creating a topic")
        .topic_arn()
        .expect("topic ARN")
        .to_owned()
}

/// The ARNs of Chatbot's subscriptions to `topic`.
pub(crate) async fn chatbot_subscriptions(account: &str, region: &str, topic: &str) -> Vec<String> {
    sns(account, region)
        .await
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .expect("listing subscriptions")
        .subscriptions()
        .iter()
        .filter(|s| s.endpoint() == Some(CHATBOT_ENDPOINT))
        .filter_map(|s| s.subscription_arn().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_role_needs_guardrails_that_cap_it() {
    let account = &cloud().members()[4];
    let stack = Stack::new(account, SLACK);
    let mut lambda = provider_lambda(&[]);
    let mut props = slack(account, &unique("guard-admin"));
    props["IamRoleArn"] = cloud().account(account)["admin_role_arn"].clone();

    let reason = assert_failed(&send(&mut lambda, stack.create("Admin", &props), direct).await);
    assert!(
        reason.starts_with("invalid property IamRoleArn:")
            && reason.contains("AdministratorAccess")
            && reason.contains("no GuardrailPolicies cap them")
            && reason.contains("AllowElevatedPermissions: true"),
        "{reason}"
    );

    props["GuardrailPolicies"] = json!([
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/AdministratorAccess"
    ]);
    let reason = assert_failed(&send(&mut lambda, stack.create("Admin", &props), direct).await);
    assert!(
        reason.starts_with("invalid property GuardrailPolicies/1:")
            && reason.contains("does not cap them"),
        "{reason}"
    );

    props["GuardrailPolicies"] = json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    let capped = assert_success(&send(&mut lambda, stack.create("Admin", &props), direct).await);

    // Dropping the guardrail later is refused too, and leaves the channel as it was.
    let mut uncapped = props.clone();
    uncapped["GuardrailPolicies"] = json!([]);
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.update("Admin", &capped, &uncapped, &props),
            direct,
        )
        .await,
    );
    assert!(reason.contains("no GuardrailPolicies cap them"), "{reason}");

    // The template alone cannot opt in: the role's owner has not tagged it.
    uncapped["AllowElevatedPermissions"] = json!("true");
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.update("Admin", &capped, &uncapped, &props),
            direct,
        )
        .await,
    );
    assert!(
        reason.starts_with("invalid property IamRoleArn:")
            && reason.contains("not enough on its own")
            && reason.contains("chatops:allow-elevated=true"),
        "{reason}"
    );
    assert_success(
        &send(
            &mut lambda,
            stack.delete("Admin", &capped, &uncapped),
            direct,
        )
        .await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn teams_channels_are_held_to_the_same_guardrails() {
    let account = &cloud().members()[4];
    let stack = Stack::new(account, TEAMS);
    let mut lambda = provider_lambda(&[]);
    let mut props = teams(account, &unique("guard-teams"));
    let reason = assert_failed(&send(&mut lambda, stack.create("Teams", &props), direct).await);
    assert!(
        reason.starts_with("invalid property IamRoleArn:")
            && reason.contains("AdministratorAccess"),
        "{reason}"
    );
    props["GuardrailPolicies"] = json!(["arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"]);
    let arn = assert_success(&send(&mut lambda, stack.create("Teams", &props), direct).await);
    assert_success(&send(&mut lambda, stack.delete("Teams", &arn, &props), direct).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn inline_star_and_iam_star_grants_are_elevated_and_missing_guardrails_are_named() {
    let account = &cloud().members()[4];
    let iam = aws_sdk_iam::Client::new(&cloud().sdk_config_for(account).await);
    let role = unique("chatops-iam-star");
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "chatbot.amazonaws.com"}, "Action": "sts:AssumeRole"
    }]});
    let created = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("creating a role");
    let role_arn = created.role().unwrap().arn().to_owned();
    let inline = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["cloudwatch:Get*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}
    ]});
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("too-much")
        .policy_document(inline.to_string())
        .send()
        .await
        .expect("adding an inline policy");

    let stack = Stack::new(account, SLACK);
    let mut lambda = provider_lambda(&[]);
    let mut props = slack(account, &unique("guard-inline"));
    props["IamRoleArn"] = json!(role_arn);
    let reason = assert_failed(&send(&mut lambda, stack.create("Inline", &props), direct).await);
    assert!(
        reason.contains("inline policy too-much") && reason.contains("\"iam:*\""),
        "{reason}"
    );

    props["GuardrailPolicies"] =
        json!([format!("arn:aws:iam::{account}:policy/no-such-guardrail")]);
    let reason = assert_failed(&send(&mut lambda, stack.create("Inline", &props), direct).await);
    assert!(
        reason.starts_with("invalid property GuardrailPolicies/0:")
            && reason.contains("does not exist"),
        "{reason}"
    );
    let _ = iam
        .delete_role_policy()
        .role_name(&role)
        .policy_name("too-much")
        .send()
        .await;
    let _ = iam.delete_role().role_name(&role).send().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn topics_may_be_in_any_region_and_account_of_the_organization() {
    let account = &cloud().members()[4];
    let elsewhere = &cloud().members()[2];
    let topic = fresh_topic(elsewhere, "eu-west-1").await;
    let stack = Stack::new(account, SLACK);
    let mut lambda = provider_lambda(&[]);
    let mut props = slack(account, &unique("guard-topics"));
    props["SnsTopicArns"] = json!([topic]);
    let arn = assert_success(&send(&mut lambda, stack.create("Topics", &props), direct).await);
    assert_eq!(
        chatbot_subscriptions(elsewhere, "eu-west-1", &topic)
            .await
            .len(),
        1,
        "Chatbot subscribed to the topic in its own account and region"
    );

    let mut missing = props.clone();
    missing["SnsTopicArns"] = json!([
        topic,
        format!("arn:aws:sns:eu-west-1:{elsewhere}:{}", unique("none"))
    ]);
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.update("Topics", &arn, &missing, &props),
            direct,
        )
        .await,
    );
    assert!(
        reason.starts_with("invalid property SnsTopicArns/1:") && reason.contains("does not exist"),
        "{reason}"
    );

    let outsider = cloud().seed["outside_account"].as_str().unwrap();
    let mut outside = props.clone();
    outside["SnsTopicArns"] = json!([format!("arn:aws:sns:us-east-1:{outsider}:chatops-alerts")]);
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.update("Topics", &arn, &outside, &props),
            direct,
        )
        .await,
    );
    assert!(
        reason.starts_with("invalid property SnsTopicArns/0:")
            && reason.contains(outsider)
            && reason.contains("not a member of the provider's organization")
            && reason.contains("use a topic of the organization"),
        "{reason}"
    );

    assert_success(&send(&mut lambda, stack.delete("Topics", &arn, &props), direct).await);
    assert!(
        chatbot_subscriptions(elsewhere, "eu-west-1", &topic)
            .await
            .is_empty(),
        "deleting the channel unsubscribed Chatbot"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_message_delivery_on_chatbots_subscription_is_reported() {
    let account = &cloud().members()[4];
    let topic = fresh_topic(account, "us-east-1").await;
    let stack = Stack::new(account, SLACK);
    let mut lambda = provider_lambda(&[]);
    let mut first = slack(account, &unique("guard-raw-a"));
    first["SnsTopicArns"] = json!([topic]);
    let first_arn = assert_success(&send(&mut lambda, stack.create("First", &first), direct).await);
    let subscription = chatbot_subscriptions(account, "us-east-1", &topic)
        .await
        .pop()
        .expect("Chatbot's subscription");

    let client = sns(account, "us-east-1").await;
    let set_raw = |value: &'static str| {
        client
            .set_subscription_attributes()
            .subscription_arn(&subscription)
            .attribute_name("RawMessageDelivery")
            .attribute_value(value)
            .send()
    };
    set_raw("true").await.expect("turning raw delivery on");

    let mut second = slack(account, &unique("guard-raw-b"));
    second["SnsTopicArns"] = json!([topic]);
    let reason = assert_failed(&send(&mut lambda, stack.create("Second", &second), direct).await);
    assert!(
        reason.starts_with("invalid property SnsTopicArns/0:")
            && reason.contains("raw message delivery enabled")
            && reason.contains("turn it off")
            && reason.contains(&subscription),
        "{reason}"
    );
    let mut quieter = first.clone();
    quieter["LoggingLevel"] = json!("NONE");
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.update("First", &first_arn, &quieter, &first),
            direct,
        )
        .await,
    );
    assert!(reason.contains("raw message delivery enabled"), "{reason}");

    set_raw("false").await.expect("turning raw delivery off");
    let second_arn =
        assert_success(&send(&mut lambda, stack.create("Second", &second), direct).await);
    assert_success(
        &send(
            &mut lambda,
            stack.delete("Second", &second_arn, &second),
            direct,
        )
        .await,
    );
    assert_success(
        &send(
            &mut lambda,
            stack.delete("First", &first_arn, &first),
            direct,
        )
        .await,
    );
}

/// Roles that can escalate to any permission (write a role's policies, pass
/// or assume any role, mint a user's keys) are elevated like an administrator
/// role, wildcards included; accepting one takes both the template's
/// AllowElevatedPermissions and the role owner's chatops:allow-elevated tag.
#[tokio::test(flavor = "multi_thread")]
async fn escalating_roles_are_elevated_and_opting_in_is_the_owners_decision() {
    let account = &cloud().members()[4];
    let stack = Stack::new(account, SLACK);
    let mut lambda = provider_lambda(&[]);
    let allow = |action: &str, resource: &str| {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["cloudwatch:Get*"], "Resource": "*"},
            {"Effect": "Allow", "Action": action, "Resource": resource}
        ]})
    };
    let role_scope = format!("arn:aws:iam::{account}:role/chatops-*");
    let mut refused = Vec::new();
    for (action, resource, named) in [
        (
            "iam:PutRolePolicy",
            role_scope.as_str(),
            "iam:PutRolePolicy",
        ),
        (
            "iam:AttachRolePolicy",
            role_scope.as_str(),
            "iam:AttachRolePolicy",
        ),
        ("iam:CreatePolicyVersion", "*", "iam:CreatePolicyVersion"),
        (
            "iam:UpdateAssumeRolePolicy",
            role_scope.as_str(),
            "iam:UpdateAssumeRolePolicy",
        ),
        ("iam:CreateAccessKey", "*", "iam:CreateAccessKey"),
        ("iam:*Role*", role_scope.as_str(), "iam:AttachRolePolicy"),
        ("*:Put*", "*", "iam:PutRolePolicy"),
        ("iam:PassRole", "*", "iam:PassRole"),
        ("sts:AssumeRole", "*", "sts:AssumeRole"),
    ] {
        let role = channel_role(account, &allow(action, resource), false).await;
        let name = unique("guard-escalate");
        let mut props = slack(account, &name);
        props["IamRoleArn"] = json!(role);
        let reason =
            assert_failed(&send(&mut lambda, stack.create("Escalating", &props), direct).await);
        assert!(
            reason.starts_with("invalid property IamRoleArn:")
                && reason.contains(&format!("{action:?}"))
                && reason.contains(named)
                && reason.contains("escalate"),
            "{action} on {resource}: {reason}"
        );
        refused.push(name);
    }

    // Passing one named role is not elevated.
    let narrow = channel_role(
        account,
        &allow("iam:PassRole", &role_scope.replace('*', "lambda")),
        false,
    )
    .await;
    let mut props = slack(account, &unique("guard-narrow"));
    props["IamRoleArn"] = json!(narrow);
    let arn = assert_success(&send(&mut lambda, stack.create("Narrow", &props), direct).await);
    assert_success(&send(&mut lambda, stack.delete("Narrow", &arn, &props), direct).await);

    let escalating = allow("iam:PutRolePolicy", "*");
    let untagged = channel_role(account, &escalating, false).await;
    let tagged = channel_role(account, &escalating, true).await;
    // The requester alone: refused.
    let name = unique("guard-optin");
    let mut props = slack(account, &name);
    props["IamRoleArn"] = json!(untagged);
    props["AllowElevatedPermissions"] = json!("true");
    let reason = assert_failed(&send(&mut lambda, stack.create("OptIn", &props), direct).await);
    assert!(
        reason.contains("not enough on its own") && reason.contains("chatops:allow-elevated=true"),
        "{reason}"
    );
    // The role's owner alone: refused.
    props["IamRoleArn"] = json!(tagged);
    props["AllowElevatedPermissions"] = json!("false");
    let reason = assert_failed(&send(&mut lambda, stack.create("OptIn", &props), direct).await);
    assert!(
        reason.contains("AllowElevatedPermissions: true"),
        "{reason}"
    );
    refused.push(name.clone());
    let names = slack_configuration_names(account).await;
    for name in &refused {
        assert!(!names.contains(name), "{name} was made");
    }

    // Both: accepted.
    props["AllowElevatedPermissions"] = json!("true");
    let arn = assert_success(&send(&mut lambda, stack.create("OptIn", &props), direct).await);
    assert_success(&send(&mut lambda, stack.delete("OptIn", &arn, &props), direct).await);
}
