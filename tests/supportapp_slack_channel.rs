//! Custom::SupportAppSlackChannel through the real binary, what only this
//! type does: defaults restored, the notify rule, a channel whose workspace
//! is missing, and the 20-channel quota. Each test has a local cloud of its
//! own (see support::supportapp). The lifecycle every type shares is in
//! lifecycle.rs.

use serde_json::{Value, json};

use crate::support::supportapp::SupportCloud;
use crate::support::*;

const TYPE: &str = "Custom::SupportAppSlackChannel";
const WORKSPACE: &str = "Custom::SupportAppSlackWorkspace";

fn channel(support: &SupportCloud, account: &str, channel_id: &str) -> Value {
    json!({
        "TeamId": "T0CHATOPS1",
        "ChannelId": channel_id,
        "ChannelName": "aws-support",
        "ChannelRoleArn": support.cloud.account(account)["supportapp_role_arn"],
        "NotifyOnCaseSeverity": "high",
        "NotifyOnCreateOrReopenCase": "true",
        "NotifyOnResolveCase": "true",
    })
}

/// Adds the seeded workspace to `account` through the provider.
async fn add_workspace(support: &mut SupportCloud, account: &str) {
    let stack = Stack::new(account, WORKSPACE);
    assert_success(
        &support
            .send(stack.create("Workspace", &json!({"TeamId": "T0CHATOPS1"})))
            .await,
    );
}

async fn find(
    support: &SupportCloud,
    account: &str,
    channel_id: &str,
) -> Option<aws_sdk_supportapp::types::SlackChannelConfiguration> {
    support
        .channels(account)
        .await
        .into_iter()
        .find(|c| c.channel_id() == channel_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_optional_properties_restores_the_defaults() {
    let mut support = SupportCloud::start();
    let account = support.member(0);
    add_workspace(&mut support, &account).await;
    let stack = Stack::new(&account, TYPE);
    let props = channel(&support, &account, "C0CASES1");
    let id = assert_success(&support.send(stack.create("Cases", &props)).await);

    // Dropping a flag from the template turns it off.
    let mut changed = props.clone();
    changed["ChannelName"] = json!("support-cases");
    changed
        .as_object_mut()
        .unwrap()
        .remove("NotifyOnResolveCase");
    let updated = support
        .send(stack.update("Cases", &id, &changed, &props))
        .await;
    assert_eq!(assert_success(&updated), id);
    let live = find(&support, &account, "C0CASES1").await.expect("updated");
    assert_eq!(live.notify_on_resolve_case(), Some(false));
    assert_eq!(live.notify_on_create_or_reopen_case(), Some(true));

    // Removing every optional property restores the service's defaults: no
    // notification flag on (severity none); ChannelName, which the API cannot
    // clear, keeps its last value.
    let minimal = json!({
        "TeamId": "T0CHATOPS1",
        "ChannelId": "C0CASES1",
        "ChannelRoleArn": props["ChannelRoleArn"],
        "NotifyOnCaseSeverity": "none",
    });
    assert_eq!(
        assert_success(
            &support
                .send(stack.update("Cases", &id, &minimal, &changed))
                .await
        ),
        id
    );
    let live = find(&support, &account, "C0CASES1").await.expect("updated");
    assert_eq!(
        live.notify_on_case_severity().map(|s| s.as_str()),
        Some("none")
    );
    assert_eq!(live.notify_on_create_or_reopen_case(), Some(false));
    assert_eq!(live.notify_on_add_correspondence_to_case(), Some(false));
    assert_eq!(live.notify_on_resolve_case(), Some(false));
    assert_eq!(live.channel_name(), Some("support-cases"));
    assert_success(&support.send(stack.delete("Cases", &id, &minimal)).await);
    assert!(support.channels(&account).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_settings_and_a_missing_workspace_are_refused_with_what_to_do() {
    let mut support = SupportCloud::start();
    let account = support.member(2);
    let stack = Stack::new(&account, TYPE);

    let mut silent = channel(&support, &account, "C0SILENT1");
    silent["NotifyOnCreateOrReopenCase"] = json!("false");
    silent["NotifyOnResolveCase"] = json!("false");
    let reason = assert_failed(&support.send(stack.create("Cases", &silent)).await);
    assert!(
        reason.starts_with("invalid property NotifyOnCaseSeverity:")
            && reason.contains("NotifyOnCreateOrReopenCase")
            && reason.contains("none"),
        "{reason}"
    );

    // `none` with a flag on: the Support App refuses it, and so does the provider, before any call.
    let mut muted = channel(&support, &account, "C0MUTED1");
    muted["NotifyOnCaseSeverity"] = json!("none");
    let reason = assert_failed(&support.send(stack.create("Cases", &muted)).await);
    assert!(
        reason.starts_with("invalid property NotifyOnCaseSeverity:")
            && reason.contains("\"none\"")
            && reason.contains("set every NotifyOn... flag to false"),
        "{reason}"
    );

    let props = channel(&support, &account, "C0NOWS1");
    let failed = support.send(stack.create("Cases", &props)).await;
    let reason = assert_failed(&failed);
    assert!(
        reason.starts_with("not authorized:")
            && reason.contains("T0CHATOPS1")
            && reason.contains("Custom::SupportAppSlackWorkspace")
            && reason.contains("DependsOn"),
        "{reason}"
    );
    let placeholder = failed["PhysicalResourceId"].as_str().unwrap().to_owned();
    assert_success(
        &support
            .send(stack.delete("Cases", &placeholder, &props))
            .await,
    );

    add_workspace(&mut support, &account).await;
    let mut chatbot_role = props.clone();
    chatbot_role["ChannelRoleArn"] = support.cloud.account(&account)["chatbot_role_arn"].clone();
    let reason = assert_failed(&support.send(stack.create("Cases", &chatbot_role)).await);
    assert!(
        reason.starts_with("invalid property ChannelRoleArn:")
            && reason.contains("does not trust supportapp.amazonaws.com"),
        "{reason}"
    );
    assert!(support.channels(&account).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_channels_is_the_most_an_account_may_have() {
    let mut support = SupportCloud::start();
    let account = support.member(3);
    add_workspace(&mut support, &account).await;
    let stack = Stack::new(&account, TYPE);
    for n in 1..=20 {
        let props = channel(&support, &account, &format!("C0QUOTA{n:02}"));
        assert_success(
            &support
                .send(stack.create(&format!("Cases{n}"), &props))
                .await,
        );
    }
    let props = channel(&support, &account, "C0QUOTA21");
    let failed = support.send(stack.create("Cases21", &props)).await;
    let reason = assert_failed(&failed);
    assert!(
        reason.starts_with("limit exceeded:")
            && reason.contains(&format!(
                "account {account} already has 20 Slack channel configurations"
            ))
            && reason.contains("C0QUOTA21")
            && reason.contains("delete one"),
        "{reason}"
    );
    assert_eq!(support.channels(&account).await.len(), 20);
    let placeholder = failed["PhysicalResourceId"].as_str().unwrap().to_owned();
    assert_success(
        &support
            .send(stack.delete("Cases21", &placeholder, &props))
            .await,
    );
    assert_eq!(
        support.channels(&account).await.len(),
        20,
        "deleting the failed one's placeholder touches no channel"
    );
}
