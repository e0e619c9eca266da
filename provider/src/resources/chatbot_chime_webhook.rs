//! `Custom::ChatbotChimeWebhook`: an AWS Chatbot configuration that posts
//! notifications to an Amazon Chime webhook. Calls chatbot
//! Create/Describe/Update/DeleteChimeWebhookConfiguration and the tagging
//! APIs, and reads IAM and SNS to check the channel role and topics first.
//!
//! The WebhookUrl is a secret (whoever has it can post to the chat room) and
//! write-only: the service never returns it, so an update compares the old
//! and new properties of the request to know whether it changed, and it never
//! reaches a log line, a Reason, Data, a plan or the live properties.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_chatbot::types::ChimeWebhookConfiguration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::chatbot::{self, LoggingLevel};
use super::guardrails::{self, ChannelPermissions};
use super::{LiveResource, Resource, prerequisites};
use crate::accounts::AccountContext;
use crate::endpoints::Service;
use crate::error::{Error, Result};
use crate::ownership::{Owner, user_tags};
use crate::properties::{CommonProperties, Tag};

/// An AWS Chatbot configuration that posts the notifications of SNS topics to an Amazon Chime chat room through its webhook.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ChimeWebhook {
    /// The configuration's name: 1 to 128 letters, digits, `-` or `_`, unique in the account.
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[A-Za-z0-9-_]+$"))]
    pub configuration_name: String,
    /// A description of the webhook, such as the chat room's name (1 to 255 characters); it is not the URL. Sensitive (as in the API model): never shown in plans, logs or errors.
    #[schemars(length(min = 1, max = 255))]
    pub webhook_description: String,
    /// The Amazon Chime webhook URL, from the chat room's Manage webhooks page (`https://hooks.chime.aws/incomingwebhooks/` followed by the webhook id and its token). Secret and write-only: never read back, logged or shown; pass it with a NoEcho parameter or a dynamic reference.
    #[schemars(
        length(min = 1, max = 255),
        regex(
            pattern = r"^https://hooks\.chime\.aws/incomingwebhooks/[A-Za-z0-9\-]+?\?token=[A-Za-z0-9\-]+$"
        )
    )]
    pub webhook_url: String,
    /// The ARN of the channel role, in the same account, that AWS Chatbot assumes; it must trust `chatbot.amazonaws.com`.
    #[schemars(regex(
        pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
    ))]
    pub iam_role_arn: String,
    /// The ARNs of the SNS topics whose notifications go to the webhook, in any region and any account of the organization; required, as CreateChimeWebhookConfiguration requires it.
    #[schemars(inner(regex(
        pattern = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"
    )))]
    pub sns_topic_arns: Vec<String>,
    /// Which events AWS Chatbot logs to CloudWatch Logs: `ERROR`, `INFO` or `NONE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<LoggingLevel>,
    /// Tags of the configuration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Provider safety switch (true or false, default false): accept a channel role with administrator-like or escalating permissions (AdministratorAccess, `*` actions, policy writes, iam:PassRole on every role, ...); Chime webhooks take no guardrail policies to cap them. The role's owner must also have tagged the role chatops:allow-elevated=true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_elevated_permissions: Option<bool>,
    /// Where the configuration is made.
    #[serde(flatten)]
    pub common: CommonProperties,
}

/// Everything but the secret, so that no `{:?}` can print it.
impl fmt::Debug for ChimeWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChimeWebhook")
            .field("configuration_name", &self.configuration_name)
            .field("webhook_description", &"(sensitive)")
            .field("webhook_url", &"(sensitive)")
            .field("iam_role_arn", &self.iam_role_arn)
            .field("sns_topic_arns", &self.sns_topic_arns)
            .field("logging_level", &self.logging_level)
            .field("tags", &self.tags)
            .field(
                "allow_elevated_permissions",
                &self.allow_elevated_permissions,
            )
            .field("common", &self.common)
            .finish()
    }
}

impl Resource for ChimeWebhook {
    const TYPE_NAME: &'static str = "Custom::ChatbotChimeWebhook";
    const SERVICE: Service = Service::Chatbot;
    const OWNERSHIP_TAGS: bool = true;
    const CREATE_ONLY: &'static [&'static str] = &["ConfigurationName"];
    // The chatbot API model marks ChimeWebhookDescription `sensitive`: kept,
    // like the URL, out of plans, logs, Reasons and the live properties.
    const WRITE_ONLY: &'static [&'static str] = &["WebhookUrl", "WebhookDescription"];
    const ATTRIBUTES: &'static [&'static str] = &["Arn", "ConfigurationName"];
    const UNORDERED: &'static [&'static str] = &["SnsTopicArns", "Tags"];
    const PROVIDER_ONLY: &'static [&'static str] = &["AllowElevatedPermissions"];

    fn service_defaults(_partition: &str) -> Value {
        serde_json::json!({"LoggingLevel": "NONE"})
    }

    fn common(&self) -> &CommonProperties {
        &self.common
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
        chatbot::is_configuration_arn(physical_id, "chime-webhook")
    }

    async fn create(&self, ctx: &AccountContext, owner: &Owner) -> Result<String> {
        self.check_prerequisites(ctx).await?;
        let created = ctx
            .chatbot
            .create_chime_webhook_configuration()
            .configuration_name(&self.configuration_name)
            .webhook_description(&self.webhook_description)
            .webhook_url(&self.webhook_url)
            .iam_role_arn(&self.iam_role_arn)
            .set_sns_topic_arns(Some(self.sns_topic_arns.clone()))
            .set_logging_level(self.logging_level.map(|l| l.as_str().to_owned()))
            .set_tags(Some(chatbot::desired_tags(&self.tags, owner)))
            .send()
            .await;
        let created = created.map(|output| {
            output
                .webhook_configuration()
                .map(|c| c.chat_configuration_arn().to_owned())
        });
        chatbot::created_or_adopted(
            self,
            ctx,
            owner,
            "CreateChimeWebhookConfiguration",
            created,
            |arn| async move {
                // What the first attempt sent is unknown: send the URL too.
                self.apply(&arn, ctx, owner, true).await
            },
        )
        .await
    }

    async fn update(
        &self,
        old: &Self,
        physical_id: &str,
        ctx: &AccountContext,
        owner: &Owner,
    ) -> Result<()> {
        // The service never returns the URL: the request's old properties are
        // the only way to know it changed.
        let url_changed = old.webhook_url != self.webhook_url;
        self.apply(physical_id, ctx, owner, url_changed).await
    }

    async fn check_owner(physical_id: &str, ctx: &AccountContext, owner: &Owner) -> Result<()> {
        chatbot::check_owner(ctx, physical_id, owner).await
    }

    async fn delete(physical_id: &str, ctx: &AccountContext) -> Result<()> {
        ctx.chatbot
            .delete_chime_webhook_configuration()
            .chat_configuration_arn(physical_id)
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk("chatbot", "DeleteChimeWebhookConfiguration", physical_id, e)
            })?;
        Ok(())
    }

    async fn list(ctx: &AccountContext) -> Result<Vec<LiveResource>> {
        let mut live = Vec::new();
        let mut pages = ctx
            .chatbot
            .describe_chime_webhook_configurations()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                Error::from_sdk(
                    "chatbot",
                    "DescribeChimeWebhookConfigurations",
                    &format!("account {}", ctx.account_id()),
                    e,
                )
            })?;
            for configuration in page.webhook_configurations() {
                let arn = configuration.chat_configuration_arn();
                let name = configuration.configuration_name();
                let read = chatbot::live_configuration(
                    ctx,
                    arn,
                    name,
                    chatbot::CustomActions::None,
                    |tags, _| live_properties(ctx, configuration, tags),
                );
                live.extend(read.await?);
            }
        }
        Ok(live)
    }
}

impl ChimeWebhook {
    async fn check_prerequisites(&self, ctx: &AccountContext) -> Result<()> {
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
                guardrails: None,
                allow_elevated: self.allow_elevated_permissions.unwrap_or(false),
            },
        )
        .await?;
        prerequisites::check_topics(ctx, "SnsTopicArns", &self.sns_topic_arns).await
    }

    /// Makes configuration `physical_id` what the properties say; the URL is
    /// sent only when `send_url`, so an unchanged secret is not sent again.
    async fn apply(
        &self,
        physical_id: &str,
        ctx: &AccountContext,
        owner: &Owner,
        send_url: bool,
    ) -> Result<()> {
        self.check_prerequisites(ctx).await?;
        ctx.chatbot
            .update_chime_webhook_configuration()
            .chat_configuration_arn(physical_id)
            .webhook_description(&self.webhook_description)
            .set_webhook_url(send_url.then(|| self.webhook_url.clone()))
            .iam_role_arn(&self.iam_role_arn)
            .set_sns_topic_arns(Some(self.sns_topic_arns.clone()))
            // Left out: the service's default, so that removing it restores NONE.
            .logging_level(self.logging_level.unwrap_or(LoggingLevel::None).as_str())
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk("chatbot", "UpdateChimeWebhookConfiguration", physical_id, e)
            })?;
        chatbot::sync_tags(ctx, physical_id, &self.tags, owner).await
    }
}

/// The properties of a live configuration, in this type's schema, without
/// the WebhookUrl that the service never returns and the sensitive description.
fn live_properties(ctx: &AccountContext, live: &ChimeWebhookConfiguration, tags: &[Tag]) -> Value {
    let properties = ChimeWebhook {
        configuration_name: live.configuration_name().unwrap_or_default().to_owned(),
        webhook_description: String::new(),
        webhook_url: String::new(),
        iam_role_arn: live.iam_role_arn().to_owned(),
        sns_topic_arns: live.sns_topic_arns().to_vec(),
        logging_level: LoggingLevel::from_live(live.logging_level()),
        tags: user_tags(tags),
        allow_elevated_permissions: None,
        common: CommonProperties {
            account_id: Some(ctx.account_id().to_owned()),
            region: Some(ctx.target.region.clone()),
            adopt: None,
        },
    };
    let mut value = serde_json::to_value(properties).expect("properties serialize");
    if let Some(map) = value.as_object_mut() {
        for name in ChimeWebhook::WRITE_ONLY {
            map.remove(*name);
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TypeSchema;
    use serde_json::json;

    const TOKEN: &str = "Zm9vYmFyLXNlY3JldC10b2tlbg";

    fn valid() -> Value {
        json!({
            "ConfigurationName": "chime-alerts",
            "WebhookDescription": "on-call room",
            "WebhookUrl": format!("https://hooks.chime.aws/incomingwebhooks/a1b2c3-d4?token={TOKEN}"),
            "IamRoleArn": "arn:aws:iam::100000000001:role/ChatbotChannelRole",
            "SnsTopicArns": ["arn:aws:sns:eu-west-1:100000000002:chatops-alerts"],
            "LoggingLevel": "ERROR",
            "AllowElevatedPermissions": "false",
        })
    }

    #[test]
    fn coerced_valid_properties_deserialize() {
        let schema = TypeSchema::of::<ChimeWebhook>();
        let mut props = valid();
        schema.coerce(&mut props);
        schema.validate(&props).unwrap();
        let parsed: ChimeWebhook = serde_json::from_value(props).unwrap();
        assert_eq!(parsed.allow_elevated_permissions, Some(false));
    }

    #[test]
    fn a_bad_url_is_named_without_echoing_it() {
        let schema = TypeSchema::of::<ChimeWebhook>();
        let mut props = valid();
        props["WebhookUrl"] = json!(format!("http://hooks.example.com/x?token={TOKEN}"));
        schema.coerce(&mut props);
        let err = schema.validate(&props).unwrap_err().to_string();
        assert!(err.starts_with("invalid property WebhookUrl:"), "{err}");
        assert!(!err.contains(TOKEN), "{err}");
        assert!(!err.contains("hooks.example.com"), "{err}");
    }

    #[test]
    fn debug_never_shows_the_url() {
        let parsed: ChimeWebhook =
            crate::reading::read(&valid(), crate::reading::Reading::Strict).unwrap();
        let shown = format!("{parsed:?}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(!shown.contains("on-call room"), "{shown}");
        assert!(shown.contains("chime-alerts"));
    }

    #[test]
    fn the_schema_marks_the_url_write_only_and_shows_no_token() {
        let schema = crate::schema::schema_for::<ChimeWebhook>();
        assert_eq!(
            schema["writeOnlyProperties"],
            json!(["/properties/WebhookUrl", "/properties/WebhookDescription"])
        );
        let mut without_pattern = schema.clone();
        without_pattern["properties"]["WebhookUrl"]
            .as_object_mut()
            .unwrap()
            .remove("pattern");
        let text = without_pattern.to_string();
        assert!(
            !text.contains("token=") && !text.contains("examples"),
            "{text}"
        );
    }

    #[test]
    fn physical_ids_are_recognised() {
        assert!(ChimeWebhook::is_physical_id(
            "arn:aws:chatbot::100000000001:chat-configuration/chime-webhook/alerts"
        ));
        assert!(!ChimeWebhook::is_physical_id(
            "arn:aws:chatbot::100000000001:chat-configuration/slack-channel/alerts"
        ));
    }
}
