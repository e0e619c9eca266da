//! Forged requests, as anyone in the organization can publish them to the
//! provider's topic: refused with nothing changed, because CloudFormation
//! does not confirm them (provenance) or the resource is another stack's
//! (ownership). docs/provenance.md lists what each phase must show.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const TYPE: &str = "Custom::ChatbotSlackChannel";
const UNVERIFIED: &str = "could not verify this request with CloudFormation";

fn properties(account: &str, name: &str, channel: &str) -> Value {
    let seeded = cloud().account(account);
    json!({
        "ConfigurationName": name,
        "SlackWorkspaceId": cloud().seed["slack_team_id"],
        "SlackChannelId": channel,
        "IamRoleArn": seeded["chatbot_role_arn"],
        "SnsTopicArns": [seeded["topics"]["us-east-1"]],
    })
}

async fn channel_of(account: &str, arn: &str) -> Option<String> {
    slack_configuration(account, arn)
        .await
        .map(|c| c.slack_channel_id().to_owned())
}

fn arn_of(account: &str, name: &str) -> String {
    format!("arn:aws:chatbot::{account}:chat-configuration/slack-channel/{name}")
}

async fn forge(lambda: &mut LocalLambda, mut request: Value) -> Value {
    send_forged(
        cloud(),
        lambda,
        &mut request,
        sns_wrapped,
        Duration::from_secs(60),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_create_in_another_account_changes_nothing() {
    let victim = &cloud().members()[1];
    let mut lambda = provider_lambda(&[]);
    let name = unique("forged");
    let stack = Stack::new(victim, TYPE);
    let props = properties(victim, &name, "C0ATTACKER");

    let refused = assert_failed(&forge(&mut lambda, stack.create("Alerts", &props)).await);
    assert!(refused.contains(UNVERIFIED), "{refused}");
    assert!(refused.contains("does not know"), "{refused}");
    assert_eq!(channel_of(victim, &arn_of(victim, &name)).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_update_or_delete_of_a_real_configuration_changes_nothing() {
    let victim = &cloud().members()[1];
    let mut lambda = provider_lambda(&[]);
    let name = unique("real");
    let stack = Stack::new(victim, TYPE);
    let props = properties(victim, &name, "C0VICTIM1");
    let arn = assert_success(&send(&mut lambda, stack.create("Alerts", &props), direct).await);

    // The stack is at rest (its resource shows no update in progress).
    let moved = properties(victim, &name, "C0ATTACKER");
    let update = stack.update("Alerts", &arn, &moved, &props);
    let refused = assert_failed(&forge(&mut lambda, update).await);
    assert!(refused.contains(UNVERIFIED), "{refused}");
    assert!(refused.contains("not UPDATE_IN_PROGRESS"), "{refused}");
    assert_eq!(channel_of(victim, &arn).await.as_deref(), Some("C0VICTIM1"));

    let refused = assert_failed(&forge(&mut lambda, stack.delete("Alerts", &arn, &props)).await);
    assert!(refused.contains(UNVERIFIED), "{refused}");
    assert_eq!(channel_of(victim, &arn).await.as_deref(), Some("C0VICTIM1"));

    // A Delete of another physical id than the one CloudFormation is deleting.
    let other = unique("other");
    let other_arn = assert_success(
        &send(
            &mut lambda,
            stack.create("Other", &properties(victim, &other, "C0OTHER01")),
            direct,
        )
        .await,
    );
    let mut real_delete = stack.delete("Other", &other_arn, &props);
    cloud().stage(&real_delete, None).await;
    real_delete["PhysicalResourceId"] = json!(arn);
    let refused = assert_failed(&forge(&mut lambda, real_delete).await);
    assert!(refused.contains(UNVERIFIED), "{refused}");
    assert!(channel_of(victim, &arn).await.is_some());
    assert!(channel_of(victim, &other_arn).await.is_some());

    let deleted = send(&mut lambda, stack.delete("Alerts", &arn, &props), direct).await;
    assert_success(&deleted);
    assert_eq!(channel_of(victim, &arn).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_admin_stack_cannot_reach_another_account() {
    let management = cloud().seed["management_account"]
        .as_str()
        .unwrap()
        .to_owned();
    let target = &cloud().members()[2];
    let mut lambda = provider_lambda(&[("CHATOPS_ADMIN_ACCOUNTS", management.as_str())]);
    let name = unique("deputy");
    let stack = Stack::new(&management, TYPE);
    let mut props = properties(target, &name, "C0ATTACKER");
    props["AccountId"] = json!(target);

    let refused = assert_failed(&forge(&mut lambda, stack.create("Alerts", &props)).await);
    assert!(refused.contains(UNVERIFIED), "{refused}");
    assert_eq!(channel_of(target, &arn_of(target, &name)).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_cannot_change_or_delete_another_stacks_configuration() {
    let account = &cloud().members()[1];
    let mut lambda = provider_lambda(&[]);
    let name = unique("owned");
    let owner = Stack::new(account, TYPE);
    let props = properties(account, &name, "C0OWNER01");
    let arn = assert_success(&send(&mut lambda, owner.create("Alerts", &props), direct).await);

    // Another stack of the same account, really updating and deleting its own
    // resource, names the first stack's configuration as its physical id.
    let intruder = Stack::new(account, TYPE);
    let moved = properties(account, &name, "C0INTRUDE");
    let update = intruder.update("Mine", &arn, &moved, &props);
    let refused = assert_failed(&send(&mut lambda, update, direct).await);
    assert!(
        refused.contains("belongs to resource Alerts of stack"),
        "{refused}"
    );
    assert!(refused.contains(&owner.stack_id), "{refused}");
    let refused =
        assert_failed(&send(&mut lambda, intruder.delete("Mine", &arn, &props), direct).await);
    assert!(refused.contains("belongs to resource Alerts"), "{refused}");
    assert_eq!(
        channel_of(account, &arn).await.as_deref(),
        Some("C0OWNER01")
    );

    assert_success(&send(&mut lambda, owner.delete("Alerts", &arn, &props), direct).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cleanup_deletes_the_replaced_id_that_its_events_name() {
    let account = &cloud().members()[1];
    let mut lambda = provider_lambda(&[]);
    let stack = Stack::new(account, TYPE);
    let old_name = unique("old");
    let old_props = properties(account, &old_name, "C0REPLACE");
    let old_arn =
        assert_success(&send(&mut lambda, stack.create("Alerts", &old_props), direct).await);

    let mut cleanup = stack.delete("Alerts", &old_arn, &old_props);
    cloud().stage(&cleanup, Some("cleanup")).await;
    let response = send_forged(
        cloud(),
        &mut lambda,
        &mut cleanup,
        sns_wrapped,
        Duration::from_secs(60),
    )
    .await;
    assert_success(&response);
    assert_eq!(channel_of(account, &old_arn).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_cloudformation_confirms_a_moment_late_is_carried_out() {
    let account = &cloud().members()[1];
    let mut lambda = provider_lambda(&[]);
    let name = unique("lagging");
    let stack = Stack::new(account, TYPE);
    let mut create = stack.create("Alerts", &properties(account, &name, &unique_channel()));
    // CloudFormation's view catches up with its own request two seconds later.
    let staged = create.clone();
    let lagging = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        cloud().stage(&staged, None).await;
    });
    let response = send_forged(
        cloud(),
        &mut lambda,
        &mut create,
        sns_wrapped,
        Duration::from_secs(60),
    )
    .await;
    lagging.await.unwrap();
    let arn = assert_success(&response);
    assert_eq!(arn, arn_of(account, &name));
    assert!(channel_of(account, &arn).await.is_some());
}
