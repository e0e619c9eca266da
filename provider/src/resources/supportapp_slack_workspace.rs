//! `Custom::SupportAppSlackWorkspace`: a Slack workspace added to an account
//! for the AWS Support App, with the property names of
//! AWS::SupportApp::SlackWorkspaceConfiguration.
//!
//! The order matters: the management account authorizes the workspace once
//! in the Support Center console (an OAuth step with no API) and registers
//! it for the organization; only then can a member account register it for
//! itself. In the management account the provider checks the console
//! authorization (ListSlackWorkspaceConfigurations) and then registers the
//! workspace for the organization; in a member account it registers it
//! (RegisterSlackWorkspaceForOrganization). Delete removes the account's
//! configuration (DeleteSlackWorkspaceConfiguration), and refuses while the
//! account still has channels in the workspace.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::supportapp::{self, MAX_WORKSPACES};
use super::{LiveResource, Resource};
use crate::accounts::{AccountContext, StackArn};
use crate::endpoints::Service;
use crate::error::{Error, Result};
use crate::ownership::Owner;
use crate::properties::CommonProperties;

/// A Slack workspace added to the account for the AWS Support App; the management account must have authorized it first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SlackWorkspace {
    /// The Slack workspace (team) ID, such as `T012ABCDEFG`, authorized once in the Support Center console of the organization's management account.
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^\S+$"))]
    pub team_id: String,
    /// Digits, such as `100`: any new value registers the workspace again (for instance after the management account authorized it anew).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^[0-9]+$"))]
    pub version_id: Option<String>,
    /// Where the workspace is added.
    #[serde(flatten)]
    pub common: CommonProperties,
}

impl Resource for SlackWorkspace {
    const TYPE_NAME: &'static str = "Custom::SupportAppSlackWorkspace";
    const SERVICE: Service = Service::SupportApp;
    const CREATE_ONLY: &'static [&'static str] = &["TeamId"];
    const PROVIDER_ONLY: &'static [&'static str] = &["VersionId"];
    const ATTRIBUTES: &'static [&'static str] = &["TeamId"];

    fn common(&self) -> &CommonProperties {
        &self.common
    }

    fn natural_key(&self) -> String {
        self.team_id.clone()
    }

    fn data(&self, _physical_id: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("TeamId".to_owned(), self.team_id.clone())])
    }

    fn is_physical_id(physical_id: &str) -> bool {
        team_of(physical_id).is_some()
    }

    // The Support App has no tags to mark who added a workspace: registering
    // is idempotent, so a retried Create, or a workspace the account already
    // has, is simply registered again.
    // The physical id is the TeamId, so that `Ref` gives what it gives for
    // AWS::SupportApp::SlackWorkspaceConfiguration ("Ref returns the ID of
    // the Slack workspace", CloudFormation resource reference) and
    // `TeamId: !Ref Workspace` works. Workspaces made before that keep their
    // `ACCOUNT:TEAM` id: an Update keeps the id it is given (a new one would
    // make CloudFormation delete the old one), and Delete reads either form.
    async fn create(&self, ctx: &AccountContext, owner: &Owner) -> Result<String> {
        self.register(ctx).await?;
        let stack_account = StackArn::parse(&owner.stack_id)?.account_id;
        Ok(physical_id_for(
            &self.team_id,
            ctx.account_id(),
            &stack_account,
        ))
    }

    async fn update(
        &self,
        _old: &Self,
        _physical_id: &str,
        ctx: &AccountContext,
        _owner: &Owner,
    ) -> Result<()> {
        self.register(ctx).await
    }

    async fn delete(physical_id: &str, ctx: &AccountContext) -> Result<()> {
        let team_id = team_of(physical_id).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "{physical_id:?} is not a Support App workspace id (TEAM, or ACCOUNT:TEAM)"
            ))
        })?;
        let channels: Vec<String> = supportapp::list_channels(ctx)
            .await?
            .iter()
            .filter(|c| c.team_id() == team_id)
            .map(|c| c.channel_id().to_owned())
            .collect();
        if !channels.is_empty() {
            return Err(still_has_channels(ctx, team_id, &channels));
        }
        ctx.supportapp
            .delete_slack_workspace_configuration()
            .team_id(team_id)
            .send()
            .await
            .map_err(|e| {
                match Error::from_sdk(
                    "supportapp",
                    "DeleteSlackWorkspaceConfiguration",
                    &format!("Slack workspace {team_id} in account {}", ctx.account_id()),
                    e,
                ) {
                    // A channel added since the check above.
                    Error::Conflict(_) => still_has_channels(ctx, team_id, &[]),
                    other => other,
                }
            })?;
        Ok(())
    }

    async fn list(ctx: &AccountContext) -> Result<Vec<LiveResource>> {
        Ok(supportapp::list_workspaces(ctx)
            .await?
            .iter()
            .map(|workspace| LiveResource {
                physical_id: workspace.team_id().to_owned(),
                natural_key: workspace.team_id().to_owned(),
                properties: json!({
                    "TeamId": workspace.team_id(),
                    "AccountId": ctx.account_id(),
                    "Region": ctx.target.region,
                }),
                tags: Vec::new(),
            })
            .collect())
    }
}

impl SlackWorkspace {
    /// Registers the workspace in the target account, after checking, in the
    /// management account, that it was authorized in the console.
    async fn register(&self, ctx: &AccountContext) -> Result<()> {
        let management = ctx.management_account_id().await?;
        let in_management = ctx.account_id() == management;
        if in_management && !supportapp::has_workspace(ctx, &self.team_id).await? {
            return Err(Error::NotAuthorized(format!(
                "Slack workspace {} is not authorized for the AWS Support App in the management account \
                 {management}: sign in to that account, open the AWS Support Center console, choose Slack \
                 and authorize the workspace once (a one-time OAuth step that has no API), then retry; \
                 member accounts can add the workspace after that",
                self.team_id
            )));
        }
        ctx.supportapp
            .register_slack_workspace_for_organization()
            .team_id(&self.team_id)
            .send()
            .await
            .map_err(|e| {
                let err = Error::from_sdk(
                    "supportapp",
                    "RegisterSlackWorkspaceForOrganization",
                    &format!("Slack workspace {} in account {}", self.team_id, ctx.account_id()),
                    e,
                );
                match err {
                    Error::Conflict(_) | Error::NotFound(_) if !in_management => {
                        Error::NotAuthorized(format!(
                            "account {} cannot add Slack workspace {} for the AWS Support App before the \
                             management account {management} has registered it for the organization: \
                             authorize the workspace once in the Support Center console of account \
                             {management}, deploy a Custom::SupportAppSlackWorkspace with TeamId {} there \
                             (a plain stack: service-managed StackSets skip the management account), then \
                             retry ({err})",
                            ctx.account_id(),
                            self.team_id,
                            self.team_id
                        ))
                    }
                    Error::LimitExceeded(_) => Error::LimitExceeded(format!(
                        "account {} already has {MAX_WORKSPACES} Slack workspaces for the AWS Support App, \
                         the most an account may have, so it cannot add {}: delete one it no longer needs \
                         (its Custom::SupportAppSlackWorkspace, or in the Support Center console), then retry",
                        ctx.account_id(),
                        self.team_id
                    )),
                    other => other,
                }
            })?;
        Ok(())
    }
}

/// The physical id of workspace `team_id` in `account`: the TeamId in the
/// stack's own account (what the native type's `Ref` gives); `ACCOUNT:TEAM`
/// when AccountId names another one, so that moving a workspace to another
/// account answers a new id and CloudFormation deletes the old registration.
fn physical_id_for(team_id: &str, account: &str, stack_account: &str) -> String {
    if account == stack_account {
        team_id.to_owned()
    } else {
        supportapp::join_id(account, &[team_id])
    }
}

/// The team of a workspace id: the TeamId itself, or `ACCOUNT:TEAM` as
/// workspaces made by earlier versions have it.
fn team_of(physical_id: &str) -> Option<&str> {
    if let Some(parts) = supportapp::split_id(physical_id, 1) {
        return parts.first().copied();
    }
    let is_team = !physical_id.is_empty()
        && physical_id.len() <= 256
        && !physical_id.contains(':')
        && !physical_id.contains(char::is_whitespace);
    is_team.then_some(physical_id)
}

/// The refusal to delete a workspace that still has channels in the account.
fn still_has_channels(ctx: &AccountContext, team_id: &str, channels: &[String]) -> Error {
    let which = if channels.is_empty() {
        String::new()
    } else {
        format!(" ({})", channels.join(", "))
    };
    Error::Conflict(format!(
        "Slack workspace {team_id} still has AWS Support App channels in account {}{which}, so its \
         configuration cannot be deleted: delete those channels first (their Custom::SupportAppSlackChannel \
         resources, or in the Support Center console); in a template, make each channel DependsOn the \
         workspace so that CloudFormation deletes the channels first",
        ctx.account_id()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TypeSchema;

    #[test]
    fn team_ids_are_checked() {
        let schema = TypeSchema::of::<SlackWorkspace>();
        schema
            .validate(&json!({"TeamId": "T0CHATOPS1", "VersionId": "2"}))
            .unwrap();
        let err = schema
            .validate(&json!({"TeamId": "T0CHATOPS1", "VersionId": "v2"}))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("invalid property VersionId:"), "{err}");
        let err = schema
            .validate(&json!({"TeamId": "T0 CHATOPS"}))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("invalid property TeamId:"), "{err}");
        let err = schema.validate(&json!({})).unwrap_err().to_string();
        assert!(err.contains("TeamId: is required"), "{err}");
    }

    #[test]
    fn a_workspace_in_another_account_than_the_stacks_has_its_account_in_the_id() {
        assert_eq!(
            physical_id_for("T0CHATOPS1", "100000000001", "100000000001"),
            "T0CHATOPS1"
        );
        let elsewhere = physical_id_for("T0CHATOPS1", "100000000002", "100000000001");
        assert_eq!(elsewhere, "100000000002:T0CHATOPS1");
        assert_eq!(team_of(&elsewhere), Some("T0CHATOPS1"));
    }

    #[test]
    fn physical_ids_are_the_team_or_account_and_team() {
        assert_eq!(team_of("T0CHATOPS1"), Some("T0CHATOPS1"));
        assert_eq!(team_of("100000000001:T0CHATOPS1"), Some("T0CHATOPS1"));
        assert!(SlackWorkspace::is_physical_id("100000000001:T0CHATOPS1"));
        assert!(!SlackWorkspace::is_physical_id(
            "100000000001:T0CHATOPS1:C0CASES1"
        ));
        assert!(!SlackWorkspace::is_physical_id("chatops:create-failed:x"));
    }

    #[test]
    fn a_new_version_id_updates_in_place_and_a_new_team_replaces() {
        let old = json!({"TeamId": "T0CHATOPS1", "VersionId": "1"});
        let bumped = json!({"TeamId": "T0CHATOPS1", "VersionId": "2"});
        assert!(matches!(
            crate::change::decide(&old, &bumped, SlackWorkspace::CREATE_ONLY, &[]),
            crate::change::Change::UpdateInPlace { .. }
        ));
        let moved = json!({"TeamId": "T0OTHER1", "VersionId": "1"});
        assert!(matches!(
            crate::change::decide(&old, &moved, SlackWorkspace::CREATE_ONLY, &[]),
            crate::change::Change::Replacement { .. }
        ));
    }
}
