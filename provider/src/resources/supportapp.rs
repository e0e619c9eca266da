//! What the AWS Support App types share: reading the account's Slack
//! workspace and channel configurations (ListSlackWorkspaceConfigurations,
//! ListSlackChannelConfigurations), and their `ACCOUNT:PART:...` ids.

use aws_sdk_supportapp::types::{SlackChannelConfiguration, SlackWorkspaceConfiguration};

use crate::accounts::AccountContext;
use crate::error::{Error, Result};

/// At most this many Slack workspaces per account (a service quota).
pub const MAX_WORKSPACES: usize = 5;
/// At most this many Slack channel configurations per account (a service quota).
pub const MAX_CHANNELS: usize = 20;

/// Every Slack workspace configured for the Support App in the account.
pub async fn list_workspaces(ctx: &AccountContext) -> Result<Vec<SlackWorkspaceConfiguration>> {
    let mut workspaces = Vec::new();
    let mut pages = ctx
        .supportapp
        .list_slack_workspace_configurations()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            Error::from_sdk(
                "supportapp",
                "ListSlackWorkspaceConfigurations",
                &format!("account {}", ctx.account_id()),
                e,
            )
        })?;
        workspaces.extend(page.slack_workspace_configurations().iter().cloned());
    }
    Ok(workspaces)
}

/// Every Slack channel configured for the Support App in the account.
pub async fn list_channels(ctx: &AccountContext) -> Result<Vec<SlackChannelConfiguration>> {
    let mut channels = Vec::new();
    let mut pages = ctx
        .supportapp
        .list_slack_channel_configurations()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            Error::from_sdk(
                "supportapp",
                "ListSlackChannelConfigurations",
                &format!("account {}", ctx.account_id()),
                e,
            )
        })?;
        channels.extend(page.slack_channel_configurations().iter().cloned());
    }
    Ok(channels)
}

/// True when Slack workspace `team_id` is configured in the account.
pub async fn has_workspace(ctx: &AccountContext, team_id: &str) -> Result<bool> {
    Ok(list_workspaces(ctx)
        .await?
        .iter()
        .any(|w| w.team_id() == team_id))
}

/// `ACCOUNT:PART:...` from its parts.
pub fn join_id(account_id: &str, parts: &[&str]) -> String {
    std::iter::once(account_id)
        .chain(parts.iter().copied())
        .collect::<Vec<_>>()
        .join(":")
}

/// The parts after the account of an `ACCOUNT:PART:...` id with `count`
/// parts, when `physical_id` has that form.
pub fn split_id(physical_id: &str, count: usize) -> Option<Vec<&str>> {
    let parts: Vec<&str> = physical_id.split(':').collect();
    let (account, rest) = parts.split_first()?;
    let valid = account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && rest.len() == count
        && rest
            .iter()
            .all(|p| !p.is_empty() && !p.contains(char::is_whitespace));
    valid.then(|| rest.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_other_forms_are_refused() {
        let id = join_id("100000000001", &["T0CHATOPS1", "C0CASES1"]);
        assert_eq!(id, "100000000001:T0CHATOPS1:C0CASES1");
        assert_eq!(split_id(&id, 2), Some(vec!["T0CHATOPS1", "C0CASES1"]));
        assert_eq!(split_id(&id, 1), None);
        assert_eq!(split_id("chatops:create-failed:req", 2), None);
        assert_eq!(split_id("12345:T0", 1), None);
        assert_eq!(
            split_id("arn:aws:chatbot::100000000001:chat-configuration/x/y", 1),
            None
        );
    }
}
