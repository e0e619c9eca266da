//! `Custom::SupportAppSlackChannel`: a Slack channel where the AWS Support
//! App posts support case notifications and takes case commands, with the
//! property names of AWS::SupportApp::SlackChannelConfiguration. Calls
//! supportapp Create/List/Update/DeleteSlackChannelConfiguration, and checks
//! the channel role (IAM) and that the workspace is in the account first.

use std::collections::BTreeMap;

use aws_sdk_supportapp::types::{NotificationSeverityLevel, SlackChannelConfiguration};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::supportapp::{self, MAX_CHANNELS};
use super::{LiveResource, Resource, prerequisites};
use crate::accounts::AccountContext;
use crate::endpoints::Service;
use crate::error::{Error, Result};
use crate::ownership::Owner;
use crate::properties::CommonProperties;

/// A Slack channel of a workspace added to the account, where the AWS Support App notifies about support cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SupportSlackChannel {
    /// The Slack workspace (team) ID, such as `T012ABCDEFG`; the workspace must be added to the account first (Custom::SupportAppSlackWorkspace).
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^\S+$"))]
    pub team_id: String,
    /// The Slack channel ID, such as `C01234567` (in Slack: channel details, at the bottom).
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^\S+$"))]
    pub channel_id: String,
    /// The channel's name as the Support App shows it (1 to 256 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^.+$"))]
    pub channel_name: Option<String>,
    /// The ARN of the channel role, in the same account, that the Support App assumes for everyone in the channel; it must trust `supportapp.amazonaws.com`.
    #[schemars(
        length(min = 31, max = 2048),
        regex(pattern = r"^arn:aws:iam::[0-9]{12}:role/(.+)$")
    )]
    pub channel_role_arn: String,
    /// Which case severities notify the channel: `none`, `all` or `high`; `all` and `high` need at least one of the NotifyOn... flags.
    pub notify_on_case_severity: NotifySeverity,
    /// Whether a case being created or reopened notifies the channel (true or false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_on_create_or_reopen_case: Option<bool>,
    /// Whether new correspondence on a case notifies the channel (true or false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_on_add_correspondence_to_case: Option<bool>,
    /// Whether a case being resolved notifies the channel (true or false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_on_resolve_case: Option<bool>,
    /// Where the channel is configured.
    #[serde(flatten)]
    pub common: CommonProperties,
}

/// The case severities that notify a channel.
// Variant doc comments would make the schema a `oneOf` of constants, whose
// validation message is far less clear than that of a plain `enum`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotifySeverity {
    None,
    All,
    High,
}

impl NotifySeverity {
    fn to_api(self) -> NotificationSeverityLevel {
        match self {
            NotifySeverity::None => NotificationSeverityLevel::None,
            NotifySeverity::All => NotificationSeverityLevel::All,
            NotifySeverity::High => NotificationSeverityLevel::High,
        }
    }

    fn from_api(level: Option<&NotificationSeverityLevel>) -> NotifySeverity {
        match level {
            Some(NotificationSeverityLevel::All) => NotifySeverity::All,
            Some(NotificationSeverityLevel::High) => NotifySeverity::High,
            _ => NotifySeverity::None,
        }
    }
}

impl Resource for SupportSlackChannel {
    const TYPE_NAME: &'static str = "Custom::SupportAppSlackChannel";
    const SERVICE: Service = Service::SupportApp;
    const CREATE_ONLY: &'static [&'static str] = &["TeamId", "ChannelId"];
    const ATTRIBUTES: &'static [&'static str] = &["TeamId", "ChannelId"];

    fn common(&self) -> &CommonProperties {
        &self.common
    }

    // The rules of CreateSlackChannelConfiguration's notifyOnCaseSeverity
    // (support-app API model): `high` or `all` need a flag set true; with
    // `none`, every flag must be null or false.
    fn check(&self) -> Result<()> {
        let notifies = [
            self.notify_on_create_or_reopen_case,
            self.notify_on_add_correspondence_to_case,
            self.notify_on_resolve_case,
        ]
        .iter()
        .any(|flag| flag.unwrap_or(false));
        if self.notify_on_case_severity != NotifySeverity::None && !notifies {
            let severity = serde_json::to_value(self.notify_on_case_severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            return Err(Error::invalid_property(
                "NotifyOnCaseSeverity",
                format!(
                    "{severity:?} notifies the channel only of the case events that are turned on, and none \
                     is: set at least one of NotifyOnCreateOrReopenCase, NotifyOnAddCorrespondenceToCase or \
                     NotifyOnResolveCase to true, or set NotifyOnCaseSeverity to none"
                ),
            ));
        }
        if self.notify_on_case_severity == NotifySeverity::None && notifies {
            return Err(Error::invalid_property(
                "NotifyOnCaseSeverity",
                "\"none\" turns case notifications off, and the AWS Support App refuses it while a \
                 NotifyOn... flag is true: set NotifyOnCaseSeverity to high or all, or set every NotifyOn... \
                 flag to false",
            ));
        }
        Ok(())
    }

    fn natural_key(&self) -> String {
        format!("{}:{}", self.team_id, self.channel_id)
    }

    fn data(&self, _physical_id: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("TeamId".to_owned(), self.team_id.clone()),
            ("ChannelId".to_owned(), self.channel_id.clone()),
        ])
    }

    fn is_physical_id(physical_id: &str) -> bool {
        supportapp::split_id(physical_id, 2).is_some()
    }

    async fn create(&self, ctx: &AccountContext, owner: &Owner) -> Result<String> {
        self.check_prerequisites(ctx).await?;
        let created = ctx
            .supportapp
            .create_slack_channel_configuration()
            .team_id(&self.team_id)
            .channel_id(&self.channel_id)
            .set_channel_name(self.channel_name.clone())
            .channel_role_arn(&self.channel_role_arn)
            .notify_on_case_severity(self.notify_on_case_severity.to_api())
            .set_notify_on_create_or_reopen_case(self.notify_on_create_or_reopen_case)
            .set_notify_on_add_correspondence_to_case(self.notify_on_add_correspondence_to_case)
            .set_notify_on_resolve_case(self.notify_on_resolve_case)
            .send()
            .await;
        let physical_id = supportapp::join_id(ctx.account_id(), &[&self.team_id, &self.channel_id]);
        match created {
            Ok(_) => Ok(physical_id),
            Err(e) => match self.service_error("CreateSlackChannelConfiguration", ctx, e) {
                Error::Conflict(conflict) => {
                    self.adopt(ctx, owner, &physical_id, &conflict).await?;
                    Ok(physical_id)
                }
                other => Err(other),
            },
        }
    }

    async fn update(
        &self,
        _old: &Self,
        _physical_id: &str,
        ctx: &AccountContext,
        _owner: &Owner,
    ) -> Result<()> {
        self.check_prerequisites(ctx).await?;
        ctx.supportapp
            .update_slack_channel_configuration()
            .team_id(&self.team_id)
            .channel_id(&self.channel_id)
            .set_channel_name(self.channel_name.clone())
            .channel_role_arn(&self.channel_role_arn)
            .notify_on_case_severity(self.notify_on_case_severity.to_api())
            // An unset flag is off: send false, or a flag removed from the template stays on.
            .notify_on_create_or_reopen_case(self.notify_on_create_or_reopen_case.unwrap_or(false))
            .notify_on_add_correspondence_to_case(
                self.notify_on_add_correspondence_to_case.unwrap_or(false),
            )
            .notify_on_resolve_case(self.notify_on_resolve_case.unwrap_or(false))
            .send()
            .await
            .map_err(|e| self.service_error("UpdateSlackChannelConfiguration", ctx, e))?;
        Ok(())
    }

    async fn delete(physical_id: &str, ctx: &AccountContext) -> Result<()> {
        let Some([team_id, channel_id]) = supportapp::split_id(physical_id, 2)
            .and_then(|parts| <[&str; 2]>::try_from(parts).ok())
        else {
            return Err(Error::InvalidRequest(format!(
                "{physical_id:?} is not a Support App channel id (ACCOUNT:TEAM:CHANNEL)"
            )));
        };
        ctx.supportapp
            .delete_slack_channel_configuration()
            .team_id(team_id)
            .channel_id(channel_id)
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk(
                    "supportapp",
                    "DeleteSlackChannelConfiguration",
                    &format!("Slack channel {channel_id} of workspace {team_id}"),
                    e,
                )
            })?;
        Ok(())
    }

    async fn list(ctx: &AccountContext) -> Result<Vec<LiveResource>> {
        Ok(supportapp::list_channels(ctx)
            .await?
            .iter()
            .map(|channel| LiveResource {
                physical_id: supportapp::join_id(
                    ctx.account_id(),
                    &[channel.team_id(), channel.channel_id()],
                ),
                natural_key: format!("{}:{}", channel.team_id(), channel.channel_id()),
                properties: live_properties(ctx, channel),
                tags: Vec::new(),
            })
            .collect())
    }
}

impl SupportSlackChannel {
    async fn check_prerequisites(&self, ctx: &AccountContext) -> Result<()> {
        prerequisites::check_channel_role(
            ctx,
            "ChannelRoleArn",
            &self.channel_role_arn,
            "supportapp.amazonaws.com",
        )
        .await?;
        if !supportapp::has_workspace(ctx, &self.team_id).await? {
            return Err(Error::NotAuthorized(format!(
                "Slack workspace {} is not added to account {} for the AWS Support App, so its channels \
                 cannot be configured: add a Custom::SupportAppSlackWorkspace with TeamId {} and make this \
                 channel DependsOn it (or fix TeamId), then retry",
                self.team_id,
                ctx.account_id(),
                self.team_id
            )));
        }
        Ok(())
    }

    /// The channel is configured already: a retried Create left it with the
    /// same settings, and it is adopted; anything else is a conflict. (The
    /// Support App has no tags to tell who configured it.)
    async fn adopt(
        &self,
        ctx: &AccountContext,
        _owner: &Owner,
        physical_id: &str,
        conflict: &str,
    ) -> Result<()> {
        let live = supportapp::list_channels(ctx)
            .await?
            .into_iter()
            .find(|c| c.team_id() == self.team_id && c.channel_id() == self.channel_id);
        match live {
            Some(live) if self.same_settings(&live) => {
                tracing::info!(physical_id, "adopted a channel with the same settings");
                Ok(())
            }
            Some(_) => Err(Error::Conflict(format!(
                "Slack channel {} of workspace {} is already configured for the AWS Support App in account {} \
                 with other settings (by another stack or in the Support Center console); use another \
                 channel, set Adopt: true to apply this template's settings to it (`chatops import` writes \
                 such a template), or delete that configuration first",
                self.channel_id,
                self.team_id,
                ctx.account_id()
            ))),
            None => Err(Error::Conflict(conflict.to_owned())),
        }
    }

    fn same_settings(&self, live: &SlackChannelConfiguration) -> bool {
        (self.channel_name.is_none() || self.channel_name.as_deref() == live.channel_name())
            && live.channel_role_arn() == Some(self.channel_role_arn.as_str())
            && NotifySeverity::from_api(live.notify_on_case_severity())
                == self.notify_on_case_severity
            && live.notify_on_create_or_reopen_case().unwrap_or(false)
                == self.notify_on_create_or_reopen_case.unwrap_or(false)
            && live.notify_on_add_correspondence_to_case().unwrap_or(false)
                == self.notify_on_add_correspondence_to_case.unwrap_or(false)
            && live.notify_on_resolve_case().unwrap_or(false)
                == self.notify_on_resolve_case.unwrap_or(false)
    }

    /// The service's refusal, with the channel quota spelt out.
    fn service_error<E>(
        &self,
        operation: &'static str,
        ctx: &AccountContext,
        error: aws_sdk_supportapp::error::SdkError<E>,
    ) -> Error
    where
        E: aws_sdk_supportapp::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let err = Error::from_sdk(
            "supportapp",
            operation,
            &format!(
                "Slack channel {} of workspace {} in account {}",
                self.channel_id,
                self.team_id,
                ctx.account_id()
            ),
            error,
        );
        match err {
            Error::LimitExceeded(_) => Error::LimitExceeded(format!(
                "account {} already has {MAX_CHANNELS} Slack channel configurations for the AWS Support App, \
                 the most an account may have, so it cannot add channel {}: delete one it no longer needs \
                 (its Custom::SupportAppSlackChannel, or in the Support Center console), then retry",
                ctx.account_id(),
                self.channel_id
            )),
            other => other,
        }
    }
}

/// The properties of a live channel configuration, in this type's schema.
fn live_properties(ctx: &AccountContext, live: &SlackChannelConfiguration) -> Value {
    let properties = SupportSlackChannel {
        team_id: live.team_id().to_owned(),
        channel_id: live.channel_id().to_owned(),
        channel_name: live.channel_name().map(str::to_owned),
        channel_role_arn: live.channel_role_arn().unwrap_or_default().to_owned(),
        notify_on_case_severity: NotifySeverity::from_api(live.notify_on_case_severity()),
        notify_on_create_or_reopen_case: live.notify_on_create_or_reopen_case(),
        notify_on_add_correspondence_to_case: live.notify_on_add_correspondence_to_case(),
        notify_on_resolve_case: live.notify_on_resolve_case(),
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
    use crate::reading::{Reading, read};
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "TeamId": "T0CHATOPS1",
            "ChannelId": "C0CASES1",
            "ChannelName": "aws-support",
            "ChannelRoleArn": "arn:aws:iam::100000000001:role/SupportAppChannelRole",
            "NotifyOnCaseSeverity": "high",
            "NotifyOnCreateOrReopenCase": "true",
            "NotifyOnResolveCase": "false",
        })
    }

    #[test]
    fn coerced_valid_properties_deserialize() {
        let parsed: SupportSlackChannel = read(&valid(), Reading::Strict).unwrap();
        assert_eq!(parsed.notify_on_case_severity, NotifySeverity::High);
        assert_eq!(parsed.notify_on_create_or_reopen_case, Some(true));
    }

    #[test]
    fn a_severity_without_a_notify_flag_is_refused_before_any_call() {
        let mut props = valid();
        props["NotifyOnCreateOrReopenCase"] = json!("false");
        let err = read::<SupportSlackChannel>(&props, Reading::Strict)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid property NotifyOnCaseSeverity:")
                && err.contains("\"high\"")
                && err.contains("NotifyOnResolveCase"),
            "{err}"
        );
        props["NotifyOnCaseSeverity"] = json!("none");
        read::<SupportSlackChannel>(&props, Reading::Strict).unwrap();
        props["NotifyOnResolveCase"] = json!("true");
        let err = read::<SupportSlackChannel>(&props, Reading::Strict)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid property NotifyOnCaseSeverity:") && err.contains("\"none\""),
            "{err}"
        );
    }

    #[test]
    fn bad_severity_and_role_are_named() {
        let mut props = valid();
        props["NotifyOnCaseSeverity"] = json!("critical");
        let err = read::<SupportSlackChannel>(&props, Reading::Strict)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("NotifyOnCaseSeverity") && err.contains("critical"),
            "{err}"
        );
        let mut props = valid();
        props["ChannelRoleArn"] = json!("arn:aws:iam::100000000001:user/someone");
        let err = read::<SupportSlackChannel>(&props, Reading::Strict)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("invalid property ChannelRoleArn:"), "{err}");
    }

    #[test]
    fn physical_ids_are_account_team_and_channel() {
        assert!(SupportSlackChannel::is_physical_id(
            "100000000001:T0CHATOPS1:C0CASES1"
        ));
        assert!(!SupportSlackChannel::is_physical_id(
            "100000000001:T0CHATOPS1"
        ));
    }
}
