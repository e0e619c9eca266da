//! What the AWS Chatbot configuration types share: the logging levels, the
//! Slack workspace and Microsoft Teams team authorization checks, and the
//! tags of a configuration.

use aws_sdk_chatbot::types::{ConfiguredTeam, SlackWorkspace, Tag as ChatbotTag};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use std::future::Future;

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use super::Resource;
use crate::accounts::AccountContext;
use crate::error::{Error, Result};
use crate::ownership::Owner;
use crate::properties::Tag;

/// The logging levels of AWS Chatbot: errors only, every event, or none.
// Variant doc comments would make the schema a `oneOf` of constants, whose
// validation message is far less clear than that of a plain `enum`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LoggingLevel {
    Error,
    Info,
    None,
}

impl LoggingLevel {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LoggingLevel::Error => "ERROR",
            LoggingLevel::Info => "INFO",
            LoggingLevel::None => "NONE",
        }
    }

    /// The level the service reports, when it is one of ours.
    pub fn from_live(level: Option<&str>) -> Option<Self> {
        match level? {
            "ERROR" => Some(LoggingLevel::Error),
            "INFO" => Some(LoggingLevel::Info),
            "NONE" => Some(LoggingLevel::None),
            _ => None,
        }
    }
}

/// What AWS Chatbot sets when a channel configuration leaves these out: no
/// logging, the AdministratorAccess guardrail, no per-user roles.
pub fn channel_defaults(partition: &str) -> serde_json::Value {
    serde_json::json!({
        "LoggingLevel": "NONE",
        "GuardrailPolicies": [format!("arn:{partition}:iam::aws:policy/AdministratorAccess")],
        "UserRoleRequired": false,
    })
}

/// What a Create call of a Chatbot configuration gives: the new ARN, or, when
/// the name is taken (Conflict), the configuration that a retried or
/// half-done Create of `owner` made, once `bring_up_to_date` has applied the
/// desired properties to it. A configuration of anyone else is a conflict.
pub async fn created_or_adopted<R, E, U, F>(
    props: &R,
    ctx: &AccountContext,
    owner: &Owner,
    operation: &'static str,
    created: std::result::Result<Option<String>, SdkError<E>>,
    bring_up_to_date: U,
) -> Result<String>
where
    R: Resource,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    U: FnOnce(String) -> F,
    F: Future<Output = Result<()>>,
{
    let name = props.natural_key();
    let (error, channel_taken) = match created {
        Ok(Some(arn)) => return Ok(arn),
        Ok(None) => {
            return Err(Error::Service {
                service: "chatbot",
                operation,
                message: "the response has no configuration ARN".into(),
            });
        }
        Err(e) => {
            let channel_taken = is_channel_taken(&e);
            let error = Error::from_sdk("chatbot", operation, &format!("configuration {name}"), e);
            (error, channel_taken)
        }
    };
    if !channel_taken && !matches!(error, Error::Conflict(_)) {
        return Err(error);
    }
    // A retried Create meets its own configuration as a taken name or a taken channel.
    let Some(arn) = super::find_owned(props, ctx, owner).await? else {
        if channel_taken {
            return Err(Error::Conflict(format!(
                "{error}; AWS Chatbot allows one configuration per Slack channel in an account: choose \
                 another SlackChannelId, or delete the configuration that uses this channel"
            )));
        }
        return Err(Error::Conflict(format!(
            "a chat configuration named {name:?} already exists in account {} and was not created by {} \
             of this stack; to bring one made in the console under this stack, set Adopt: true on {} \
             (`chatops import` writes such a template); else choose another ConfigurationName, or delete \
             the existing configuration",
            ctx.account_id(),
            owner.logical_id,
            owner.logical_id
        )));
    };
    bring_up_to_date(arn.clone()).await?;
    Ok(arn)
}

/// AWS Chatbot's refusal of a second configuration for a Slack channel
/// (InvalidRequestException "... has already been configured for AWS account
/// ...", see localcloud/README.md for where that error was reported).
fn is_channel_taken<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error.code() == Some("InvalidRequestException")
        && error
            .message()
            .is_some_and(|m| m.contains("has already been configured"))
}

/// Whether a type's configurations carry custom actions to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomActions {
    /// Their custom actions are read (ListAssociations).
    Read,
    /// The type has none (Chime webhooks).
    None,
}

/// A live configuration as the plan and adoption see it: its tags (which
/// tell who owns it) and, where the type has them, its custom actions are
/// read, and `properties` makes its properties from them. `None` when it was
/// deleted between the listing that named it and these reads (by another
/// stack's delete, or in the console): it is gone, not an error that would
/// fail the whole listing.
pub async fn live_configuration(
    ctx: &AccountContext,
    arn: &str,
    name: Option<&str>,
    custom_actions: CustomActions,
    properties: impl FnOnce(&[Tag], Vec<String>) -> serde_json::Value,
) -> Result<Option<super::LiveResource>> {
    let actions = match custom_actions {
        CustomActions::Read => match unless_gone_meanwhile(list_custom_actions(ctx, arn).await)? {
            Some(actions) => actions,
            None => return Ok(None),
        },
        CustomActions::None => Vec::new(),
    };
    let Some(tags) = unless_gone_meanwhile(list_tags(ctx, arn).await)? else {
        return Ok(None);
    };
    Ok(Some(super::LiveResource {
        physical_id: arn.to_owned(),
        natural_key: name.unwrap_or_default().to_owned(),
        properties: properties(&tags, actions),
        tags,
    }))
}

/// `None` for a read of what is not found (any more).
fn unless_gone_meanwhile<T>(read: Result<T>) -> Result<Option<T>> {
    match read {
        Err(e) if e.is_not_found() => Ok(None),
        other => other.map(Some),
    }
}

/// `None` for an empty list: the service applies its default then.
pub fn non_empty(items: &[String]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// Every Slack workspace authorized for AWS Chatbot in the account
/// (DescribeSlackWorkspaces, all pages).
pub async fn slack_workspaces(ctx: &AccountContext) -> Result<Vec<SlackWorkspace>> {
    let mut workspaces = Vec::new();
    let mut pages = ctx
        .chatbot
        .describe_slack_workspaces()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            Error::from_sdk(
                "chatbot",
                "DescribeSlackWorkspaces",
                &format!("account {}", ctx.account_id()),
                e,
            )
        })?;
        workspaces.extend(page.slack_workspaces().iter().cloned());
    }
    Ok(workspaces)
}

/// Every Microsoft Teams team configured for AWS Chatbot in the account
/// (ListMicrosoftTeamsConfiguredTeams, all pages).
pub async fn configured_teams(ctx: &AccountContext) -> Result<Vec<ConfiguredTeam>> {
    let mut teams = Vec::new();
    let mut pages = ctx
        .chatbot
        .list_microsoft_teams_configured_teams()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            Error::from_sdk(
                "chatbot",
                "ListMicrosoftTeamsConfiguredTeams",
                &format!("account {}", ctx.account_id()),
                e,
            )
        })?;
        teams.extend(page.configured_teams().iter().cloned());
    }
    Ok(teams)
}

/// Checks that Slack workspace `team_id` is authorized for AWS Chatbot in the
/// account. There is no API for that one-time OAuth step, so the error says
/// where to click.
pub async fn check_slack_workspace(ctx: &AccountContext, team_id: &str) -> Result<()> {
    if slack_workspaces(ctx)
        .await?
        .iter()
        .any(|w| w.slack_team_id() == team_id)
    {
        return Ok(());
    }
    Err(Error::NotAuthorized(format!(
        "Slack workspace {team_id} is not authorized for AWS Chatbot in account {}: sign in to that account, \
         open the AWS Chatbot console, choose Slack and authorize the workspace once (a one-time OAuth step \
         that has no API), then retry; or fix SlackWorkspaceId",
        ctx.account_id()
    )))
}

/// Checks that Microsoft Teams team `team_id` of tenant `tenant_id` is
/// configured for AWS Chatbot in the account: like Slack's OAuth, a one-time
/// console step with no API.
pub async fn check_teams_team(ctx: &AccountContext, team_id: &str, tenant_id: &str) -> Result<()> {
    if configured_teams(ctx).await?.iter().any(|t| {
        t.team_id().eq_ignore_ascii_case(team_id) && t.tenant_id().eq_ignore_ascii_case(tenant_id)
    }) {
        return Ok(());
    }
    Err(Error::NotAuthorized(format!(
        "Microsoft Teams team {team_id} (tenant {tenant_id}) is not configured for AWS Chatbot in account {}: \
         sign in to that account, open the AWS Chatbot console, choose Microsoft Teams and add the team once \
         (a one-time step that has no API), then retry; or fix TeamId and TeamsTenantId",
        ctx.account_id()
    )))
}

/// The tags a configuration should carry: the user's plus the owner's managed tags.
pub fn desired_tags(user: &[Tag], owner: &Owner) -> Vec<ChatbotTag> {
    user.iter()
        .cloned()
        .chain(owner.managed_tags())
        .filter_map(|t| {
            ChatbotTag::builder()
                .tag_key(t.key)
                .tag_value(t.value)
                .build()
                .ok()
        })
        .collect()
}

/// The tags of configuration `arn`.
pub async fn list_tags(ctx: &AccountContext, arn: &str) -> Result<Vec<Tag>> {
    let response = ctx
        .chatbot
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| Error::from_sdk("chatbot", "ListTagsForResource", arn, e))?;
    Ok(response
        .tags()
        .iter()
        .map(|t| Tag {
            key: t.tag_key().to_owned(),
            value: t.tag_value().to_owned(),
        })
        .collect())
}

/// Refuses to change configuration `arn` unless it carries `owner`'s managed
/// tags, naming who owns it instead.
pub async fn check_owner(ctx: &AccountContext, arn: &str, owner: &Owner) -> Result<()> {
    let tags = list_tags(ctx, arn).await?;
    if owner.owns(&tags) {
        return Ok(());
    }
    let owned_by = match Owner::of_tags(&tags) {
        Some(other) => format!("resource {} of stack {}", other.logical_id, other.stack_id),
        None => "no stack of this provider (it has no chatops: ownership tags, so it was made \
              outside CloudFormation or by another tool)"
            .to_owned(),
    };
    Err(Error::Conflict(format!(
        "{arn} belongs to {owned_by}, not to resource {} of stack {}; the provider changes and \
         deletes only what the requesting stack made (remove the resource from this stack with \
         DeletionPolicy Retain, or delete it where it was made)",
        owner.logical_id, owner.stack_id
    )))
}

/// Makes the tags of `arn` equal to the user's tags plus the managed tags.
pub async fn sync_tags(ctx: &AccountContext, arn: &str, user: &[Tag], owner: &Owner) -> Result<()> {
    let live = list_tags(ctx, arn).await?;
    let desired = desired_tags(user, owner);
    let stale: Vec<String> = live
        .iter()
        .filter(|t| !desired.iter().any(|d| d.tag_key() == t.key))
        .map(|t| t.key.clone())
        .collect();
    let missing: Vec<ChatbotTag> = desired
        .into_iter()
        .filter(|d| {
            !live
                .iter()
                .any(|t| t.key == d.tag_key() && t.value == d.tag_value())
        })
        .collect();
    if !stale.is_empty() {
        ctx.chatbot
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(|e| Error::from_sdk("chatbot", "UntagResource", arn, e))?;
    }
    if !missing.is_empty() {
        ctx.chatbot
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(missing))
            .send()
            .await
            .map_err(|e| Error::from_sdk("chatbot", "TagResource", arn, e))?;
    }
    Ok(())
}

/// True for ids of the form `arn:PARTITION:chatbot::ACCOUNT:chat-configuration/KIND/NAME`.
pub fn is_configuration_arn(physical_id: &str, kind: &str) -> bool {
    let parts: Vec<&str> = physical_id.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "chatbot"
        && parts[5].starts_with(&format!("chat-configuration/{kind}/"))
}

/// The pattern of a custom action ARN, as the chatbot API model's
/// ResourceIdentifier (AssociateToConfiguration.Resource) has it.
pub const CUSTOM_ACTION_ARN_PATTERN: &str = r"^arn:aws[a-z-]*:chatbot:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:custom-action/[a-zA-Z0-9_-]{1,64}$";

/// Refuses guardrail policies under `aws-service-role/`: the chatbot API
/// refuses them (its GuardrailPolicyArn pattern excludes `/aws-service-role/`).
pub fn check_guardrail_policies(policies: &[String]) -> Result<()> {
    match policies
        .iter()
        .position(|arn| arn.contains("/aws-service-role/"))
    {
        Some(index) => Err(Error::invalid_property(
            format!("GuardrailPolicies/{index}"),
            format!(
                "{} is a service-linked role policy (aws-service-role/), which AWS Chatbot refuses as a \
                 channel guardrail: use a customer managed policy or another AWS managed policy, such as \
                 ReadOnlyAccess",
                policies[index]
            ),
        )),
        None => Ok(()),
    }
}

/// The GuardrailPolicyArns to send: the template's, else the service's
/// default (AdministratorAccess), so that removing GuardrailPolicies on an
/// update restores the default instead of keeping the old policies.
pub fn guardrails_or_default(policies: &[String], partition: &str) -> Vec<String> {
    if policies.is_empty() {
        vec![format!(
            "arn:{partition}:iam::aws:policy/AdministratorAccess"
        )]
    } else {
        policies.to_vec()
    }
}

/// The custom actions associated with configuration `arn` (ListAssociations):
/// its CustomizationResourceArns.
pub async fn list_custom_actions(ctx: &AccountContext, arn: &str) -> Result<Vec<String>> {
    let mut actions = Vec::new();
    let mut token = None;
    loop {
        let page = ctx
            .chatbot
            .list_associations()
            .chat_configuration(arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| Error::from_sdk("chatbot", "ListAssociations", arn, e))?;
        actions.extend(page.associations().iter().map(|a| a.resource().to_owned()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(actions);
        }
    }
}

/// Makes the custom actions associated with configuration `arn` exactly
/// `desired` (AssociateToConfiguration, DisassociateFromConfiguration).
pub async fn sync_custom_actions(
    ctx: &AccountContext,
    arn: &str,
    desired: &[String],
) -> Result<()> {
    let live = list_custom_actions(ctx, arn).await?;
    for action in live.iter().filter(|a| !desired.contains(a)) {
        ctx.chatbot
            .disassociate_from_configuration()
            .chat_configuration(arn)
            .resource(action)
            .send()
            .await
            .map_err(|e| Error::from_sdk("chatbot", "DisassociateFromConfiguration", action, e))?;
    }
    for action in desired.iter().filter(|a| !live.contains(a)) {
        ctx.chatbot
            .associate_to_configuration()
            .chat_configuration(arn)
            .resource(action)
            .send()
            .await
            .map_err(|e| {
                match Error::from_sdk("chatbot", "AssociateToConfiguration", action, e) {
                    Error::Service { message: problem, .. } | Error::NotFound(problem) => {
                        Error::invalid_property(
                            "CustomizationResourceArns",
                            format!(
                                "{action} cannot be associated ({problem}): create the custom action in \
                                 account {} first (aws chatbot create-custom-action), or fix the ARN",
                                ctx.account_id()
                            ),
                        )
                    }
                    other => other,
                }
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration deleted between the listing and the read of its
    /// details is left out; any other failure still fails the listing.
    #[test]
    fn what_was_deleted_meanwhile_is_left_out_of_a_listing() {
        let gone: Result<u8> = Err(Error::NotFound("deleted".into()));
        assert_eq!(unless_gone_meanwhile(gone).unwrap(), None);
        assert_eq!(unless_gone_meanwhile(Ok(7)).unwrap(), Some(7));
        let denied: Result<u8> = Err(Error::AccessDenied("no".into()));
        assert!(unless_gone_meanwhile(denied).is_err());
    }
}
