//! Channel-role guardrails: every member of a chat channel acts with the
//! channel role's permissions, capped only by the channel's guardrail
//! policies (AWS Chatbot applies AdministratorAccess as the guardrail when
//! none is given). A channel role that grants administrator-like permissions
//! (AdministratorAccess, `*` actions, `iam:*`, an Allow with NotAction)
//! without guardrails that cap them is refused before any call, unless the
//! template says `AllowElevatedPermissions: true`.
//!
//! Reads the role's attached and inline policies and the guardrail policies
//! through IAM (ListAttachedRolePolicies, ListRolePolicies, GetRolePolicy,
//! GetPolicy, GetPolicyVersion).

use serde_json::Value;

use super::prerequisites::{parse_role_arn, policy_document, statements};
use crate::accounts::AccountContext;
use crate::error::{Error, Result};

/// The AWS managed policy that grants everything.
const ADMINISTRATOR_ACCESS: &str = "AdministratorAccess";

/// The permissions a channel may end up with, as a template declares them.
#[derive(Debug, Clone, Copy)]
pub struct ChannelPermissions<'a> {
    /// The property holding the channel role, such as `IamRoleArn`.
    pub role_property: &'a str,
    /// The channel role's ARN (already checked to exist in the account).
    pub role_arn: &'a str,
    /// The guardrail property and its policy ARNs; `None` for a configuration
    /// type that takes no guardrails (Chime webhooks).
    pub guardrails: Option<(&'a str, &'a [String])>,
    /// `AllowElevatedPermissions`: the template accepts an uncapped role.
    pub allow_elevated: bool,
}

/// Refuses a channel whose role grants administrator-like permissions that no
/// guardrail caps, unless elevated permissions are allowed.
pub async fn check_channel_permissions(
    ctx: &AccountContext,
    channel: ChannelPermissions<'_>,
) -> Result<()> {
    if channel.allow_elevated {
        return Ok(());
    }
    let (_, role_name) = parse_role_arn(channel.role_arn).ok_or_else(|| {
        Error::invalid_property(
            channel.role_property,
            format!("{:?} is not an IAM role ARN", channel.role_arn),
        )
    })?;
    let grants = role_grants(ctx, channel.role_property, role_name).await?;
    if grants.is_empty() {
        return Ok(());
    }
    let granted = grants.join("; ");
    let Some((guardrail_property, guardrails)) = channel.guardrails else {
        return Err(Error::invalid_property(
            channel.role_property,
            format!(
                "role {} grants administrator-like permissions ({granted}), and this configuration type \
                 takes no guardrail policies to cap them; use a notifications-only role (see the \
                 NotificationsOnly template in examples/channel-roles.yaml), or set \
                 AllowElevatedPermissions: true if the channel must have them",
                channel.role_arn
            ),
        ));
    };
    if guardrails.is_empty() {
        return Err(Error::invalid_property(
            channel.role_property,
            format!(
                "role {} grants administrator-like permissions ({granted}) to every member of the \
                 channel, and no {guardrail_property} cap them (without guardrails AWS Chatbot applies \
                 AdministratorAccess); set {guardrail_property} to policies that cap what the channel may \
                 do (such as arn:aws:iam::aws:policy/ReadOnlyAccess, or the templates in \
                 examples/channel-roles.yaml), use a narrower role, or set AllowElevatedPermissions: true \
                 if the channel must have them",
                channel.role_arn
            ),
        ));
    }
    for (index, policy_arn) in guardrails.iter().enumerate() {
        let path = format!("{guardrail_property}/{index}");
        let elevated = managed_policy_grants(ctx, &path, policy_arn).await?;
        if !elevated.is_empty() {
            return Err(Error::invalid_property(
                path,
                format!(
                    "role {} grants administrator-like permissions ({granted}), and guardrail policy \
                     {policy_arn} does not cap them ({}); use guardrails that cap what the channel may do \
                     (such as arn:aws:iam::aws:policy/ReadOnlyAccess, or the templates in \
                     examples/channel-roles.yaml), or set AllowElevatedPermissions: true if the channel \
                     must have them",
                    channel.role_arn,
                    elevated.join("; ")
                ),
            ));
        }
    }
    Ok(())
}

/// What the attached and inline policies of role `role_name` (the value of
/// `role_property`) grant that is administrator-like, one entry per grant.
async fn role_grants(
    ctx: &AccountContext,
    role_property: &str,
    role_name: &str,
) -> Result<Vec<String>> {
    let mut grants = Vec::new();
    let mut attached = ctx
        .iam
        .list_attached_role_policies()
        .role_name(role_name)
        .into_paginator()
        .send();
    while let Some(page) = attached.next().await {
        let page =
            page.map_err(|e| Error::from_sdk("iam", "ListAttachedRolePolicies", role_name, e))?;
        for policy in page.attached_policies() {
            let Some(arn) = policy.policy_arn() else {
                continue;
            };
            let found = managed_policy_grants(ctx, role_property, arn).await?;
            grants.extend(
                found
                    .into_iter()
                    .map(|g| format!("attached policy {arn}: {g}")),
            );
        }
    }
    let mut inline = ctx
        .iam
        .list_role_policies()
        .role_name(role_name)
        .into_paginator()
        .send();
    while let Some(page) = inline.next().await {
        let page = page.map_err(|e| Error::from_sdk("iam", "ListRolePolicies", role_name, e))?;
        for name in page.policy_names() {
            let policy = ctx
                .iam
                .get_role_policy()
                .role_name(role_name)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| {
                    Error::from_sdk("iam", "GetRolePolicy", &format!("{role_name}/{name}"), e)
                })?;
            let found = policy_document(policy.policy_document())
                .map(|document| elevated_grants(&document))
                .unwrap_or_default();
            grants.extend(
                found
                    .into_iter()
                    .map(|g| format!("inline policy {name}: {g}")),
            );
        }
    }
    Ok(grants)
}

/// What the default version of managed policy `policy_arn` grants that is
/// administrator-like. `path` names the property that refers to it, for the
/// error when it does not exist.
async fn managed_policy_grants(
    ctx: &AccountContext,
    path: &str,
    policy_arn: &str,
) -> Result<Vec<String>> {
    if policy_arn.ends_with(&format!(":policy/{ADMINISTRATOR_ACCESS}")) {
        return Ok(vec![
            "the AWS managed AdministratorAccess policy".to_owned(),
        ]);
    }
    let not_found = |e: Error| {
        if e.is_not_found() {
            Error::invalid_property(
                path,
                format!("policy {policy_arn} does not exist; create it first or fix the ARN"),
            )
        } else {
            e
        }
    };
    let policy = ctx
        .iam
        .get_policy()
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(|e| not_found(Error::from_sdk("iam", "GetPolicy", policy_arn, e)))?;
    let Some(version) = policy.policy().and_then(|p| p.default_version_id()) else {
        return Ok(Vec::new());
    };
    let version = ctx
        .iam
        .get_policy_version()
        .policy_arn(policy_arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| not_found(Error::from_sdk("iam", "GetPolicyVersion", policy_arn, e)))?;
    Ok(version
        .policy_version()
        .and_then(|v| v.document())
        .and_then(policy_document)
        .map(|document| elevated_grants(&document))
        .unwrap_or_default())
}

/// The administrator-like grants of a policy document: Allow statements with
/// `*` (or `*:*`) or `iam:*` actions, or with NotAction (everything but a few).
pub fn elevated_grants(document: &Value) -> Vec<String> {
    let mut grants = Vec::new();
    for statement in statements(document) {
        if statement["Effect"] != "Allow" {
            continue;
        }
        for action in strings(&statement["Action"]) {
            let lower = action.to_ascii_lowercase();
            if lower == "*" || lower == "*:*" || lower == "iam:*" {
                let grant = format!("allows {action:?}");
                if !grants.contains(&grant) {
                    grants.push(grant);
                }
            }
        }
        let except = strings(&statement["NotAction"]);
        if !except.is_empty() {
            grants.push(format!("allows every action except {}", except.join(", ")));
        }
    }
    grants
}

/// A policy element that is a string or a list of strings.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn administrator_like_grants_are_found() {
        let admin = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        assert_eq!(elevated_grants(&admin), [r#"allows "*""#]);
        let iam = json!({"Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "IAM:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "*:*", "Resource": "*"},
        ]});
        assert_eq!(
            elevated_grants(&iam),
            [r#"allows "IAM:*""#, r#"allows "*:*""#]
        );
        let power_user = json!({"Statement": [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}
        ]});
        assert_eq!(
            elevated_grants(&power_user),
            ["allows every action except iam:*, organizations:*"]
        );
    }

    #[test]
    fn narrow_and_deny_statements_are_not_elevated() {
        let notifications = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"],
            "Resource": "*"
        }]});
        assert!(elevated_grants(&notifications).is_empty());
        let read_only_commands = json!({"Statement": [{
            "Effect": "Deny",
            "Action": ["iam:*", "sts:*", "kms:*", "ssm:*"],
            "Resource": "*"
        }]});
        assert!(elevated_grants(&read_only_commands).is_empty());
        assert!(elevated_grants(&json!({})).is_empty());
    }
}
