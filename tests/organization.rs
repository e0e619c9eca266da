//! Across the organization: one central provider serving member accounts'
//! stacks and StackSet instances through SNS, and the refusals that keep a
//! member from acting elsewhere (confused deputy), a wrong ExternalId, and an
//! account outside the organization.

use serde_json::{Value, json};

use crate::support::*;

const TYPE: &str = "Custom::ChatbotSlackChannel";

/// The Slack channel `cfn-templates/org-chatops.yaml` gives every account, as
/// CloudFormation resolves it there (ConfigurationName `chatops-${AWS::AccountId}`).
fn org_channel(account: &str, suffix: &str, logging: &str) -> Value {
    let seeded = cloud().account(account);
    json!({
        "ConfigurationName": format!("chatops-{account}-{suffix}"),
        "SlackWorkspaceId": cloud().seed["slack_team_id"],
        "SlackChannelId": unique_channel(),
        "IamRoleArn": seeded["chatbot_role_arn"],
        "SnsTopicArns": [seeded["topics"]["us-east-1"]],
        "LoggingLevel": logging,
    })
}

/// The stack of a service-managed StackSet instance in `account`.
fn stack_set_instance(account: &str, stack_set: &str) -> Stack {
    let mut stack = Stack::new(account, TYPE);
    stack.stack_id = format!(
        "arn:aws:cloudformation:us-east-1:{account}:stack/StackSet-{stack_set}-{}/{}",
        unique("instance"),
        unique("guid")
    );
    stack
}

async fn configuration_names(account: &str) -> Vec<String> {
    let chatbot = cloud().chatbot(account).await;
    let mut names = Vec::new();
    let mut pages = chatbot
        .describe_slack_channel_configurations()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for configuration in page.expect("describe").slack_channel_configurations() {
            names.extend(configuration.configuration_name().map(str::to_owned));
            assert_eq!(
                configuration.chat_configuration_arn().split(':').nth(4),
                Some(account)
            );
        }
    }
    names
}

async fn logging_level(account: &str, arn: &str) -> Option<String> {
    let chatbot = cloud().chatbot(account).await;
    let output = chatbot
        .describe_slack_channel_configurations()
        .chat_configuration_arn(arn)
        .send()
        .await
        .ok()?;
    output
        .slack_channel_configurations()
        .first()?
        .logging_level()
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_set_rolls_out_updates_and_deletes_across_member_accounts() {
    let members = cloud().members();
    assert!(
        members.len() >= 5,
        "the default seed has at least five members"
    );
    let suffix = unique("rollout");
    let mut lambda = provider_lambda(&[]);
    let instances: Vec<(String, Stack)> = members
        .iter()
        .map(|account| (account.clone(), stack_set_instance(account, "org-chatops")))
        .collect();

    let mut arns = Vec::new();
    for (account, stack) in &instances {
        let response = send(
            &mut lambda,
            stack.create("SlackChannel", &org_channel(account, &suffix, "ERROR")),
            sns_wrapped,
        )
        .await;
        let arn = assert_success(&response);
        assert!(
            arn.contains(&format!("::{account}:")),
            "{arn} is made in the instance's own account"
        );
        arns.push(arn);
    }
    for (account, _) in &instances {
        let names = configuration_names(account).await;
        assert!(
            names.contains(&format!("chatops-{account}-{suffix}")),
            "{account}: {names:?}"
        );
        for other in members.iter().filter(|m| *m != account) {
            assert!(
                !names.contains(&format!("chatops-{other}-{suffix}")),
                "{account} holds {other}'s channel"
            );
        }
    }

    for ((account, stack), arn) in instances.iter().zip(&arns) {
        let old = org_channel(account, &suffix, "ERROR");
        let new = org_channel(account, &suffix, "INFO");
        let response = send(
            &mut lambda,
            stack.update("SlackChannel", arn, &new, &old),
            sns_wrapped,
        )
        .await;
        assert_eq!(&assert_success(&response), arn);
        assert_eq!(logging_level(account, arn).await.as_deref(), Some("INFO"));
    }

    for ((account, stack), arn) in instances.iter().zip(&arns) {
        let props = org_channel(account, &suffix, "INFO");
        assert_success(
            &send(
                &mut lambda,
                stack.delete("SlackChannel", arn, &props),
                sns_wrapped,
            )
            .await,
        );
        assert!(
            !configuration_names(account)
                .await
                .contains(&format!("chatops-{account}-{suffix}"))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_cannot_act_in_another_account_without_the_allowlist() {
    let members = cloud().members();
    let (asking, target) = (&members[0], &members[1]);
    let name = unique("deputy");
    let mut props = org_channel(target, &name, "ERROR");
    props["AccountId"] = json!(target);

    let mut lambda = provider_lambda(&[]);
    let stack = Stack::new(asking, TYPE);
    let reason =
        assert_failed(&send(&mut lambda, stack.create("Elsewhere", &props), sns_wrapped).await);
    assert!(
        reason.contains(&format!("may not create resources in account {target}")),
        "{reason}"
    );
    assert!(reason.contains("CHATOPS_ADMIN_ACCOUNTS"), "{reason}");
    let expected = format!("chatops-{target}-{name}");
    assert!(!configuration_names(target).await.contains(&expected));
    assert!(!configuration_names(asking).await.contains(&expected));

    // The same request from a stack in an admin account is allowed.
    let management = cloud().seed["management_account"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut admin_lambda = provider_lambda(&[("CHATOPS_ADMIN_ACCOUNTS", &management)]);
    let admin_stack = Stack::new(&management, TYPE);
    let arn = assert_success(
        &send(
            &mut admin_lambda,
            admin_stack.create("Elsewhere", &props),
            sns_wrapped,
        )
        .await,
    );
    assert!(arn.contains(&format!("::{target}:")), "{arn}");
    assert_success(
        &send(
            &mut admin_lambda,
            admin_stack.delete("Elsewhere", &arn, &props),
            sns_wrapped,
        )
        .await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_external_id_is_refused_with_what_to_check() {
    let account = &cloud().members()[2];
    let name = unique("external");
    let props = org_channel(account, &name, "ERROR");
    let mut lambda = provider_lambda(&[("CHATOPS_EXTERNAL_ID", "not-the-external-id")]);
    let stack = Stack::new(account, TYPE);
    let reason =
        assert_failed(&send(&mut lambda, stack.create("Channel", &props), sns_wrapped).await);
    assert!(
        reason.contains(&format!(
            "could not assume arn:aws:iam::{account}:role/ChatOpsExecutionRole"
        )),
        "{reason}"
    );
    assert!(reason.contains("ExternalId"), "{reason}");
    assert!(
        !reason.contains("not-the-external-id"),
        "the ExternalId is not echoed: {reason}"
    );
    assert!(
        !configuration_names(account)
            .await
            .contains(&format!("chatops-{account}-{name}"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_outside_the_organization_is_refused() {
    let outsider = cloud().seed["outside_account"].as_str().unwrap().to_owned();
    let name = unique("outsider");
    let props = org_channel(&outsider, &name, "ERROR");
    let mut lambda = provider_lambda(&[]);
    let stack = Stack::new(&outsider, TYPE);
    let reason =
        assert_failed(&send(&mut lambda, stack.create("Channel", &props), sns_wrapped).await);
    assert!(
        reason.contains(&format!(
            "account {outsider} is not a member of the provider's organization"
        )),
        "{reason}"
    );
    assert!(
        !configuration_names(&outsider)
            .await
            .contains(&format!("chatops-{outsider}-{name}"))
    );
}
