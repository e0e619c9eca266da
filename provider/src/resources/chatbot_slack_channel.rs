//! `Custom::ChatbotSlackChannel`: an AWS Chatbot configuration for a Slack
//! channel, with the property names of AWS::Chatbot::SlackChannelConfiguration.
//! Calls chatbot Create/Describe/Update/DeleteSlackChannelConfiguration,
//! DescribeSlackWorkspaces and the tagging APIs, and reads IAM and SNS to
//! check the channel role (and its guardrails) and topics first.

use std::collections::BTreeMap;

use aws_sdk_chatbot::types::SlackChannelConfiguration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use serde_json::Value;

pub use super::chatbot::LoggingLevel;
use super::chatbot::non_empty;
use super::guardrails::{self, ChannelPermissions};
use super::{LiveResource, Resource, chatbot, prerequisites};
use crate::accounts::AccountContext;
use crate::endpoints::Service;
use crate::error::{Error, Result};
use crate::ownership::{Owner, user_tags};
use crate::properties::{CommonProperties, Tag};

/// An AWS Chatbot configuration that sends notifications to, and takes commands from, one Slack channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SlackChannel {
    /// The configuration's name: 1 to 128 letters, digits, `-` or `_`, unique in the account.
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[A-Za-z0-9-_]+$"))]
    pub configuration_name: String,
    /// The Slack workspace (team) ID authorized for AWS Chatbot in the account, such as `T07EA123LEP` (upper-case letters and digits).
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[0-9A-Z]{1,255}$"))]
    pub slack_workspace_id: String,
    /// The Slack channel ID, such as `C07EZ1ABC23` (in Slack: channel details, at the bottom).
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[A-Za-z0-9]+$"))]
    pub slack_channel_id: String,
    /// The ARN of the channel role, in the same account, that AWS Chatbot assumes; it must trust `chatbot.amazonaws.com`.
    #[schemars(regex(
        pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
    ))]
    pub iam_role_arn: String,
    /// The ARNs of the SNS topics whose notifications go to the channel, in any region.
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

impl Resource for SlackChannel {
    const TYPE_NAME: &'static str = "Custom::ChatbotSlackChannel";
    const SERVICE: Service = Service::Chatbot;
    const OWNERSHIP_TAGS: bool = true;
    const CREATE_ONLY: &'static [&'static str] = &["ConfigurationName", "SlackWorkspaceId"];
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

    /// AWS Chatbot refuses a second configuration for a Slack channel in one
    /// account ("Slack channel with ID C in Slack team T has already been
    /// configured for AWS account A", InvalidRequestException; see
    /// localcloud/README.md for the reports of that error).
    fn exclusive_key(&self) -> Option<(String, &'static str)> {
        Some((
            format!("{}/{}", self.slack_workspace_id, self.slack_channel_id),
            "SlackChannelId",
        ))
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
        chatbot::is_configuration_arn(physical_id, "slack-channel")
    }

    async fn create(&self, ctx: &AccountContext, owner: &Owner) -> Result<String> {
        self.check_prerequisites(ctx).await?;
        let created = ctx
            .chatbot
            .create_slack_channel_configuration()
            .configuration_name(&self.configuration_name)
            .slack_team_id(&self.slack_workspace_id)
            .slack_channel_id(&self.slack_channel_id)
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
            "CreateSlackChannelConfiguration",
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
            .update_slack_channel_configuration()
            .chat_configuration_arn(physical_id)
            .slack_channel_id(&self.slack_channel_id)
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
                Error::from_sdk("chatbot", "UpdateSlackChannelConfiguration", physical_id, e)
            })?;
        chatbot::sync_custom_actions(ctx, physical_id, &self.customization_resource_arns).await?;
        chatbot::sync_tags(ctx, physical_id, &self.tags, owner).await
    }

    async fn check_owner(physical_id: &str, ctx: &AccountContext, owner: &Owner) -> Result<()> {
        chatbot::check_owner(ctx, physical_id, owner).await
    }

    async fn delete(physical_id: &str, ctx: &AccountContext) -> Result<()> {
        ctx.chatbot
            .delete_slack_channel_configuration()
            .chat_configuration_arn(physical_id)
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk("chatbot", "DeleteSlackChannelConfiguration", physical_id, e)
            })?;
        Ok(())
    }

    async fn list(ctx: &AccountContext) -> Result<Vec<LiveResource>> {
        let mut live = Vec::new();
        let mut pages = ctx
            .chatbot
            .describe_slack_channel_configurations()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                Error::from_sdk(
                    "chatbot",
                    "DescribeSlackChannelConfigurations",
                    &format!("account {}", ctx.account_id()),
                    e,
                )
            })?;
            for configuration in page.slack_channel_configurations() {
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

impl SlackChannel {
    async fn check_prerequisites(&self, ctx: &AccountContext) -> Result<()> {
        chatbot::check_slack_workspace(ctx, &self.slack_workspace_id).await?;
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
    live: &SlackChannelConfiguration,
    tags: &[Tag],
    custom_actions: Vec<String>,
) -> Value {
    let properties = SlackChannel {
        configuration_name: live.configuration_name().unwrap_or_default().to_owned(),
        slack_workspace_id: live.slack_team_id().to_owned(),
        slack_channel_id: live.slack_channel_id().to_owned(),
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

    fn valid() -> serde_json::Value {
        json!({
            "ConfigurationName": "alerts-prod",
            "SlackWorkspaceId": "T0CHATOPS1",
            "SlackChannelId": "C0ALERTS1",
            "IamRoleArn": "arn:aws:iam::100000000001:role/ChatbotChannelRole",
            "SnsTopicArns": ["arn:aws:sns:us-east-1:100000000001:chatops-alerts"],
            "LoggingLevel": "ERROR",
            "UserRoleRequired": "true",
        })
    }

    #[test]
    fn coerced_valid_properties_deserialize() {
        let schema = TypeSchema::of::<SlackChannel>();
        let mut props = valid();
        schema.coerce(&mut props);
        schema.validate(&props).unwrap();
        let parsed: SlackChannel = serde_json::from_value(props).unwrap();
        assert_eq!(parsed.user_role_required, Some(true));
        assert_eq!(parsed.logging_level, Some(LoggingLevel::Error));
    }

    #[test]
    fn bad_values_name_the_property_and_what_is_expected() {
        let schema = TypeSchema::of::<SlackChannel>();
        let mut props = valid();
        props["SlackChannelId"] = json!("not a channel");
        let err = schema.validate(&props).unwrap_err().to_string();
        assert!(err.starts_with("invalid property SlackChannelId:"), "{err}");
        assert!(err.contains("the Slack channel ID"), "{err}");

        let mut props = valid();
        props["LoggingLevel"] = json!("DEBUG");
        let err = schema.validate(&props).unwrap_err().to_string();
        assert!(
            err.contains("LoggingLevel") && err.contains("DEBUG"),
            "{err}"
        );
    }

    #[test]
    fn missing_and_unknown_properties_are_named() {
        let schema = TypeSchema::of::<SlackChannel>();
        let mut props = valid();
        props.as_object_mut().unwrap().remove("IamRoleArn");
        let err = schema.validate(&props).unwrap_err().to_string();
        assert!(err.contains("IamRoleArn: is required"), "{err}");

        let mut props = valid();
        props["SlackChanelId"] = json!("C1");
        let err = schema.validate(&props).unwrap_err().to_string();
        assert!(
            err.contains("SlackChanelId") && err.contains("did you mean SlackChannelId?"),
            "{err}"
        );
    }

    #[test]
    fn managed_tag_keys_are_refused() {
        let schema = TypeSchema::of::<SlackChannel>();
        let mut props = valid();
        props["Tags"] = json!([{"Key": "chatops:stack-id", "Value": "x"}]);
        let err = schema.validate(&props).unwrap_err().to_string();
        assert!(err.contains("Tags/0/Key"), "{err}");
    }

    #[test]
    fn physical_ids_are_recognised() {
        assert!(SlackChannel::is_physical_id(
            "arn:aws:chatbot::100000000001:chat-configuration/slack-channel/alerts"
        ));
        assert!(!SlackChannel::is_physical_id("chatops:create-failed:123"));
    }
}
