//! Custom::SupportAppSlackWorkspace through the real binary: the order the
//! Support App imposes (management account first), the 5-workspace quota,
//! and a delete that refuses while the account still has channels in the
//! workspace. Each test has a local cloud of its own (see support::supportapp).

use serde_json::json;

use crate::support::supportapp::SupportCloud;
use crate::support::*;

const TYPE: &str = "Custom::SupportAppSlackWorkspace";
const CHANNEL: &str = "Custom::SupportAppSlackChannel";

#[tokio::test(flavor = "multi_thread")]
async fn a_member_before_the_management_account_fails_clearly_then_succeeds() {
    let mut support = SupportCloud::start();
    let management = support.management();
    let member = support.member(0);
    // The management account authorized T0ORDER1 in the console, but has not
    // registered it for the organization yet.
    support
        .cloud
        .authorize_slack("supportapp", &management, "T0ORDER1", false)
        .await;
    let props = json!({"TeamId": "T0ORDER1"});
    let member_stack = Stack::new(&member, TYPE);

    let failed = support.send(member_stack.create("Workspace", &props)).await;
    let reason = assert_failed(&failed);
    assert!(
        reason.starts_with("not authorized:")
            && reason.contains(&format!("management account {management}"))
            && reason.contains("Custom::SupportAppSlackWorkspace with TeamId T0ORDER1")
            && reason.contains("Support Center console"),
        "{reason}"
    );
    assert!(
        !support
            .workspaces(&member)
            .await
            .contains(&"T0ORDER1".to_owned())
    );
    let placeholder = failed["PhysicalResourceId"].as_str().unwrap().to_owned();
    assert_success(
        &support
            .send(member_stack.delete("Workspace", &placeholder, &props))
            .await,
    );

    let management_stack = Stack::new(&management, TYPE);
    let registered = support
        .send(management_stack.create("Workspace", &props))
        .await;
    // The physical id is the TeamId, what Ref gives for the native type.
    assert_eq!(assert_success(&registered), "T0ORDER1");
    assert_eq!(registered["Data"], json!({"TeamId": "T0ORDER1"}));

    let joined = support.send(member_stack.create("Workspace", &props)).await;
    assert_eq!(assert_success(&joined), "T0ORDER1");
    assert!(
        support
            .workspaces(&member)
            .await
            .contains(&"T0ORDER1".to_owned())
    );

    // A retried Create, and a new VersionId, register again without harm; a
    // workspace made by an earlier version has the id ACCOUNT:TEAM, which an
    // update keeps (a new id would make CloudFormation delete the old one).
    assert_success(&support.send(member_stack.create("Workspace", &props)).await);
    let bumped = json!({"TeamId": "T0ORDER1", "VersionId": "2"});
    let updated = support
        .send(member_stack.update("Workspace", &format!("{member}:T0ORDER1"), &bumped, &props))
        .await;
    assert_eq!(assert_success(&updated), format!("{member}:T0ORDER1"));
    // Removing the optional VersionId registers again and leaves the
    // workspace in the account, as without it from the start.
    let removed = support
        .send(member_stack.update("Workspace", &format!("{member}:T0ORDER1"), &props, &bumped))
        .await;
    assert_eq!(assert_success(&removed), format!("{member}:T0ORDER1"));
    assert!(
        support
            .workspaces(&member)
            .await
            .contains(&"T0ORDER1".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_management_account_needs_the_console_authorization() {
    let mut support = SupportCloud::start();
    let management = support.management();
    let stack = Stack::new(&management, TYPE);
    let reason = assert_failed(
        &support
            .send(stack.create("Workspace", &json!({"TeamId": "T0NEVERAUTH"})))
            .await,
    );
    assert!(
        reason.starts_with("not authorized:")
            && reason.contains("T0NEVERAUTH")
            && reason.contains(&format!("management account {management}"))
            && reason.contains("authorize the workspace once")
            && reason.contains("Support Center console"),
        "{reason}"
    );
    assert!(
        !support
            .workspaces(&management)
            .await
            .contains(&"T0NEVERAUTH".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn five_workspaces_is_the_most_an_account_may_have() {
    let mut support = SupportCloud::start();
    let management = support.management();
    let member = support.member(1);
    let shared = ["T0CHATOPS1", "T0QUOTA1", "T0QUOTA2", "T0QUOTA3", "T0QUOTA4"];
    for team in &shared[1..] {
        support
            .cloud
            .authorize_slack("supportapp", &management, team, true)
            .await;
    }
    // One workspace the member authorized in its own console...
    support
        .cloud
        .authorize_slack("supportapp", &member, "T0LOCAL1", false)
        .await;
    // ...and four through the provider make five.
    let stack = Stack::new(&member, TYPE);
    for team in &shared[..4] {
        let id = assert_success(
            &support
                .send(stack.create(&format!("Workspace{team}"), &json!({"TeamId": team})))
                .await,
        );
        assert_eq!(&id, team);
    }
    assert_eq!(support.workspaces(&member).await.len(), 5);

    let failed = support
        .send(stack.create("WorkspaceT0QUOTA4", &json!({"TeamId": "T0QUOTA4"})))
        .await;
    let reason = assert_failed(&failed);
    assert!(
        reason.starts_with("limit exceeded:")
            && reason.contains(&format!("account {member} already has 5 Slack workspaces"))
            && reason.contains("T0QUOTA4")
            && reason.contains("delete one"),
        "{reason}"
    );
    assert_eq!(support.workspaces(&member).await.len(), 5);

    // Freeing one makes room; Delete also takes the ACCOUNT:TEAM id that
    // workspaces made by earlier versions have.
    assert_success(
        &support
            .send(stack.delete(
                "WorkspaceT0QUOTA3",
                &format!("{member}:T0QUOTA3"),
                &json!({"TeamId": "T0QUOTA3"}),
            ))
            .await,
    );
    assert_success(
        &support
            .send(stack.create("WorkspaceT0QUOTA4", &json!({"TeamId": "T0QUOTA4"})))
            .await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_refuses_while_the_account_has_channels_in_the_workspace() {
    let mut support = SupportCloud::start();
    let member = support.member(2);
    let workspace = json!({"TeamId": "T0CHATOPS1"});
    let stack = Stack::new(&member, TYPE);
    let workspace_id = assert_success(&support.send(stack.create("Workspace", &workspace)).await);
    assert_eq!(workspace_id, "T0CHATOPS1");

    // `TeamId: !Ref Workspace`, the native pattern: Ref gives the TeamId.
    let channel = json!({
        "TeamId": workspace_id,
        "ChannelId": "C0CASES1",
        "ChannelRoleArn": support.cloud.account(&member)["supportapp_role_arn"],
        "NotifyOnCaseSeverity": "none",
    });
    let channels = Stack::new(&member, CHANNEL);
    let channel_id = assert_success(&support.send(channels.create("Cases", &channel)).await);

    let failed = support
        .send(stack.delete("Workspace", &workspace_id, &workspace))
        .await;
    let reason = assert_failed(&failed);
    assert!(
        reason.starts_with("conflict:")
            && reason.contains("T0CHATOPS1")
            && reason.contains("C0CASES1")
            && reason.contains("delete those channels first")
            && reason.contains("DependsOn"),
        "{reason}"
    );
    assert_eq!(failed["PhysicalResourceId"], workspace_id.as_str());
    assert!(
        support
            .workspaces(&member)
            .await
            .contains(&"T0CHATOPS1".to_owned())
    );

    assert_success(
        &support
            .send(channels.delete("Cases", &channel_id, &channel))
            .await,
    );
    assert_success(
        &support
            .send(stack.delete("Workspace", &workspace_id, &workspace))
            .await,
    );
    assert!(support.workspaces(&member).await.is_empty());
    // Deleting again, as CloudFormation may, finds nothing and succeeds.
    assert_success(
        &support
            .send(stack.delete("Workspace", &workspace_id, &workspace))
            .await,
    );
}
