//! `Custom::ChatbotTeamsChannel`: an AWS Chatbot configuration for a
//! Microsoft Teams channel, with the property names of
//! AWS::Chatbot::MicrosoftTeamsChannelConfiguration. Calls chatbot
//! Create/Get/List/Update/DeleteMicrosoftTeamsChannelConfiguration,
//! ListMicrosoftTeamsConfiguredTeams and the tagging APIs, and reads IAM and
//! SNS to check the channel role, its guardrails and the topics first.

use std::collections::BTreeMap;

use aws_sdk_chatbot::types::TeamsChannelConfiguration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::chatbot::{self, LoggingLevel, non_empty};
use super::guardrails::{self, ChannelPermissions};
use super::{LiveResource, Resource, prerequisites};
use crate::accounts::AccountContext;
use crate::endpoints::Service;
use crate::error::{Error, Result};
use crate::ownership::{Owner, user_tags};
use crate::properties::{CommonProperties, Tag};

/// An AWS Chatbot configuration that sends notifications to, and takes commands from, one Microsoft Teams channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct TeamsChannel {
    /// The configuration's name: 1 to 128 letters, digits, `-` or `_`, unique in the account.
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[A-Za-z0-9-_]+$"))]
    pub configuration_name: String,
    /// The Microsoft Teams team ID (a UUID, from the team's link), configured once for AWS Chatbot in the account's console.
    #[schemars(
        length(min = 36, max = 36),
        regex(pattern = r"^[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$")
    )]
    pub team_id: String,
    /// The Microsoft Teams channel ID as it appears, URL-encoded, in the channel's link, such as `19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2`.
    #[schemars(
        length(min = 1, max = 255),
        regex(
            pattern = r"^([a-zA-Z0-9-_=+/.,])*%3[aA]([a-zA-Z0-9-_=+/.,])*%40([a-zA-Z0-9-_=+/.,])*$"
        )
    )]
    pub teams_channel_id: String,
    /// The Microsoft Teams channel's name, shown in the AWS Chatbot console (1 to 1000 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1000))]
    pub teams_channel_name: Option<String>,
    /// The Microsoft Teams tenant ID (a UUID) of the team.
    #[schemars(
        length(min = 36, max = 36),
        regex(pattern = r"^[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$")
    )]
    pub teams_tenant_id: String,
    /// The ARN of the channel role, in the same account, that AWS Chatbot assumes; it must trust `chatbot.amazonaws.com`.
    #[schemars(regex(
        pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
    ))]
    pub iam_role_arn: String,
    /// The ARNs of the SNS topics whose notifications go to the channel, in any region and any account of the organization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(
        pattern = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"
    )))]
    pub sns_topic_arns: Vec<String>,
    /// Which events AWS Chatbot logs to CloudWatch Logs: `ERROR`, `INFO` or `NONE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<LoggingLevel>,
    /// The ARNs of IAM policies that cap what channel members can do; without them AWS Chatbot applies AdministratorAccess as the guardrail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(
        pattern = r"^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+$"
    )))]
    pub guardrail_policies: Vec<String>,
    /// Whether each channel member must use their own IAM role (true or false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_role_required: Option<bool>,
    /// The ARNs of AWS Chatbot custom actions to associate with the channel (made with CreateCustomAction in the same account).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = chatbot::CUSTOM_ACTION_ARN_PATTERN)))]
    pub customization_resource_arns: Vec<String>,
    /// Tags of the configuration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Provider safety switch (true or false, default false): accept a channel role with administrator-like or escalating permissions (AdministratorAccess, `*` actions, policy writes, iam:PassRole on every role, ...) that no guardrail policy caps. The role's owner must also have tagged the role chatops:allow-elevated=true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_elevated_permissions: Option<bool>,
    /// Where the configuration is made.
    #[serde(flatten)]
    pub common: CommonProperties,
}

impl Resource for TeamsChannel {
    const TYPE_NAME: &'static str = "Custom::ChatbotTeamsChannel";
    const SERVICE: Service = Service::Chatbot;
    const OWNERSHIP_TAGS: bool = true;
    const CREATE_ONLY: &'static [&'static str] = &["ConfigurationName", "TeamId", "TeamsTenantId"];
    const UNORDERED: &'static [&'static str] = &[
        "SnsTopicArns",
        "GuardrailPolicies",
        "Tags",
        "CustomizationResourceArns",
    ];
    const ATTRIBUTES: &'static [&'static str] = &["Arn", "ConfigurationName"];
    const PROVIDER_ONLY: &'static [&'static str] = &["AllowElevatedPermissions"];

    fn service_defaults(partition: &str) -> Value {
        chatbot::channel_defaults(partition)
    }

    fn common(&self) -> &CommonProperties {
        &self.common
    }

    fn check(&self) -> Result<()> {
        chatbot::check_guardrail_policies(&self.guardrail_policies)
    }

    fn natural_key(&self) -> String {
        self.configuration_name.clone()
    }

    fn data(&self, physical_id: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("Arn".to_owned(), physical_id.to_owned()),
            (
                "ConfigurationName".to_owned(),
                self.configuration_name.clone(),
            ),
        ])
    }

    fn is_physical_id(physical_id: &str) -> bool {
        chatbot::is_configuration_arn(physical_id, "microsoft-teams-channel")
    }

    async fn create(&self, ctx: &AccountContext, owner: &Owner) -> Result<String> {
        self.check_prerequisites(ctx).await?;
        let created = ctx
            .chatbot
            .create_microsoft_teams_channel_configuration()
            .configuration_name(&self.configuration_name)
            .team_id(&self.team_id)
            .tenant_id(&self.teams_tenant_id)
            .channel_id(&self.teams_channel_id)
            .set_channel_name(self.teams_channel_name.clone())
            .iam_role_arn(&self.iam_role_arn)
            .set_sns_topic_arns(Some(self.sns_topic_arns.clone()))
            .set_logging_level(self.logging_level.map(|l| l.as_str().to_owned()))
            .set_guardrail_policy_arns(non_empty(&self.guardrail_policies))
            .set_user_authorization_required(self.user_role_required)
            .set_tags(Some(chatbot::desired_tags(&self.tags, owner)))
            .send()
            .await;
        let created = created.map(|output| {
            output
                .channel_configuration()
                .map(|c| c.chat_configuration_arn().to_owned())
        });
        let arn = chatbot::created_or_adopted(
            self,
            ctx,
            owner,
            "CreateMicrosoftTeamsChannelConfiguration",
            created,
            |arn| async move { self.update(self, &arn, ctx, owner).await },
        )
        .await?;
        chatbot::sync_custom_actions(ctx, &arn, &self.customization_resource_arns).await?;
        Ok(arn)
    }

    async fn update(
        &self,
        _old: &Self,
        physical_id: &str,
        ctx: &AccountContext,
        owner: &Owner,
    ) -> Result<()> {
        self.check_prerequisites(ctx).await?;
        ctx.chatbot
            .update_microsoft_teams_channel_configuration()
            .chat_configuration_arn(physical_id)
            .channel_id(&self.teams_channel_id)
            .set_channel_name(self.teams_channel_name.clone())
            .iam_role_arn(&self.iam_role_arn)
            .set_sns_topic_arns(Some(self.sns_topic_arns.clone()))
            // A property left out is sent as the service's default, so that
            // removing it from the template restores that default.
            .logging_level(self.logging_level.unwrap_or(LoggingLevel::None).as_str())
            .set_guardrail_policy_arns(Some(chatbot::guardrails_or_default(
                &self.guardrail_policies,
                &ctx.target.partition,
            )))
            .user_authorization_required(self.user_role_required.unwrap_or(false))
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk(
                    "chatbot",
                    "UpdateMicrosoftTeamsChannelConfiguration",
                    physical_id,
                    e,
                )
            })?;
        chatbot::sync_custom_actions(ctx, physical_id, &self.customization_resource_arns).await?;
        chatbot::sync_tags(ctx, physical_id, &self.tags, owner).await
    }

    async fn check_owner(physical_id: &str, ctx: &AccountContext, owner: &Owner) -> Result<()> {
        chatbot::check_owner(ctx, physical_id, owner).await
    }

    async fn delete(physical_id: &str, ctx: &AccountContext) -> Result<()> {
        ctx.chatbot
            .delete_microsoft_teams_channel_configuration()
            .chat_configuration_arn(physical_id)
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk(
                    "chatbot",
                    "DeleteMicrosoftTeamsChannelConfiguration",
                    physical_id,
                    e,
                )
            })?;
        Ok(())
    }

    async fn list(ctx: &AccountContext) -> Result<Vec<LiveResource>> {
        let mut live = Vec::new();
        let mut pages = ctx
            .chatbot
            .list_microsoft_teams_channel_configurations()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                Error::from_sdk(
                    "chatbot",
                    "ListMicrosoftTeamsChannelConfigurations",
                    &format!("account {}", ctx.account_id()),
                    e,
                )
            })?;
            for configuration in page.team_channel_configurations() {
                let arn = configuration.chat_configuration_arn();
                let name = configuration.configuration_name();
                let read = chatbot::live_configuration(
                    ctx,
                    arn,
                    name,
                    chatbot::CustomActions::Read,
                    |tags, actions| live_properties(ctx, configuration, tags, actions),
                );
                live.extend(read.await?);
            }
        }
        Ok(live)
    }
}

impl TeamsChannel {
    async fn check_prerequisites(&self, ctx: &AccountContext) -> Result<()> {
        chatbot::check_teams_team(ctx, &self.team_id, &self.teams_tenant_id).await?;
        prerequisites::check_channel_role(
            ctx,
            "IamRoleArn",
            &self.iam_role_arn,
            "chatbot.amazonaws.com",
        )
        .await?;
        guardrails::check_channel_permissions(
            ctx,
            ChannelPermissions {
                role_property: "IamRoleArn",
                role_arn: &self.iam_role_arn,
                guardrails: Some(("GuardrailPolicies", &self.guardrail_policies)),
                allow_elevated: self.allow_elevated_permissions.unwrap_or(false),
            },
        )
        .await?;
        prerequisites::check_topics(ctx, "SnsTopicArns", &self.sns_topic_arns).await
    }
}

/// The properties of a live configuration, in this type's schema.
fn live_properties(
    ctx: &AccountContext,
    live: &TeamsChannelConfiguration,
    tags: &[Tag],
    custom_actions: Vec<String>,
) -> Value {
    let properties = TeamsChannel {
        configuration_name: live.configuration_name().unwrap_or_default().to_owned(),
        team_id: live.team_id().to_owned(),
        teams_channel_id: live.channel_id().to_owned(),
        teams_channel_name: live.channel_name().map(str::to_owned),
        teams_tenant_id: live.tenant_id().to_owned(),
        iam_role_arn: live.iam_role_arn().to_owned(),
        sns_topic_arns: live.sns_topic_arns().to_vec(),
        logging_level: LoggingLevel::from_live(live.logging_level()),
        guardrail_policies: live.guardrail_policy_arns().to_vec(),
        user_role_required: live.user_authorization_required(),
        customization_resource_arns: custom_actions,
        tags: user_tags(tags),
        allow_elevated_permissions: None,
        common: CommonProperties {
            account_id: Some(ctx.account_id().to_owned()),
            region: Some(ctx.target.region.clone()),
            adopt: None,
        },
    };
    serde_json::to_value(properties).expect("properties serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TypeSchema;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "ConfigurationName": "teams-alerts",
            "TeamId": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            "TeamsChannelId": "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2",
            "TeamsTenantId": "9c6b0c3e-7f5a-4b8e-9d1f-2a3b4c5d6e7f",
            "IamRoleArn": "arn:aws:iam::100000000001:role/ChatbotChannelRole",
            "GuardrailPolicies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "UserRoleRequired": "true",
        })
    }

    #[test]
    fn coerced_valid_properties_deserialize() {
        let schema = TypeSchema::of::<TeamsChannel>();
        let mut props = valid();
        schema.coerce(&mut props);
        schema.validate(&props).unwrap();
        let parsed: TeamsChannel = serde_json::from_value(props).unwrap();
        assert_eq!(parsed.user_role_required, Some(true));
    }

    #[test]
    fn ids_are_checked_against_teams_formats() {
        let schema = TypeSchema::of::<TeamsChannel>();
        let mut props = valid();
        props["TeamsChannelId"] = json!("19:b6ef35dc@thread.tacv2");
        let err = schema.validate(&props).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid property TeamsChannelId:") && err.contains("URL-encoded"),
            "{err}"
        );
        let mut props = valid();
        props["TeamsTenantId"] = json!("not-a-uuid");
        let err = schema.validate(&props).unwrap_err().to_string();
        assert!(err.contains("TeamsTenantId"), "{err}");
    }

    #[test]
    fn team_and_tenant_changes_replace() {
        let old = valid();
        let mut new = valid();
        new["TeamsTenantId"] = json!("00000000-0000-0000-0000-000000000000");
        let change = crate::change::decide(
            &old,
            &new,
            TeamsChannel::CREATE_ONLY,
            TeamsChannel::UNORDERED,
        );
        assert!(
            matches!(change, crate::change::Change::Replacement { ref reasons, .. } if reasons == &["TeamsTenantId"]),
            "{change:?}"
        );
        let mut moved = valid();
        moved["TeamsChannelId"] = json!("19%3aother%40thread.tacv2");
        assert!(matches!(
            crate::change::decide(
                &old,
                &moved,
                TeamsChannel::CREATE_ONLY,
                TeamsChannel::UNORDERED
            ),
            crate::change::Change::UpdateInPlace { .. }
        ));
    }

    #[test]
    fn physical_ids_are_recognised() {
        assert!(TeamsChannel::is_physical_id(
            "arn:aws:chatbot::100000000001:chat-configuration/microsoft-teams-channel/alerts"
        ));
        assert!(!TeamsChannel::is_physical_id("chatops:create-failed:1"));
    }
}
