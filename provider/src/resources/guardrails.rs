//! Channel-role guardrails: every member of a chat channel acts with the
//! channel role's permissions, capped only by the channel's guardrail
//! policies (AWS Chatbot applies AdministratorAccess as the guardrail when
//! none is given). A channel role with elevated permissions that no guardrail
//! caps is refused before any call. Elevated means administrator-like
//! (AdministratorAccess, `*` actions, an Allow with NotAction) or able to
//! escalate to it (see [`ESCALATION_ACTIONS`]): whoever can write a role's
//! policies or pass any role is an administrator in all but name.
//!
//! Such a role is accepted only when both sides agree: the template says
//! `AllowElevatedPermissions: true`, and the role's owner tagged the role
//! [`ALLOW_ELEVATED_TAG`]` = true`. The requester alone cannot opt in (any
//! account of the organization can publish a request), and the execution
//! role the provider acts through is denied writing that tag
//! (cfn-templates/member-role.yaml).
//!
//! Reads the role's attached and inline policies, its tags and the guardrail
//! policies through IAM (GetRole, ListAttachedRolePolicies, ListRolePolicies,
//! GetRolePolicy, GetPolicy, GetPolicyVersion).

use serde_json::Value;

use super::prerequisites::{parse_role_arn, policy_document, statements};
use crate::accounts::AccountContext;
use crate::error::{Error, Result};

/// The AWS managed policy that grants everything.
const ADMINISTRATOR_ACCESS: &str = "AdministratorAccess";

/// The tag by which a role's owner accepts that a channel may use it although
/// its permissions are elevated; its value must be `true`.
pub const ALLOW_ELEVATED_TAG: &str = "chatops:allow-elevated";

/// Actions that let whoever holds them give themselves any permission: write
/// or swap a policy of a role, user or group, change who may assume a role,
/// lift a permissions boundary, mint credentials for a user, or run code as
/// another role. From Rhino Security Labs, "AWS IAM Privilege Escalation –
/// Methods and Mitigation" (its 21 methods), and the IAM User Guide's
/// warnings on iam:PassRole ("Granting a user permissions to pass a role to
/// an AWS service") and permissions boundaries.
pub const ESCALATION_ACTIONS: &[&str] = &[
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreatePolicyVersion",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:PutGroupPolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateLoginProfile",
    "glue:UpdateDevEndpoint",
    "lambda:UpdateFunctionCode",
];

/// Actions that escalate when allowed on every resource: passing any role to
/// a service (which then acts as it), or assuming any role.
pub const ANY_ROLE_ACTIONS: &[&str] = &["iam:PassRole", "sts:AssumeRole"];

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

/// What to do about an elevated role, for the end of every refusal.
fn how_to_accept(guardrail_advice: &str) -> String {
    format!(
        "{guardrail_advice}, or, if the channel must have them, set AllowElevatedPermissions: true \
         and have the role's owner tag the role {ALLOW_ELEVATED_TAG}=true (both are needed)"
    )
}

/// Refuses a channel whose role grants elevated permissions that no guardrail
/// caps, unless both the template and the role's owner accept them.
pub async fn check_channel_permissions(
    ctx: &AccountContext,
    channel: ChannelPermissions<'_>,
) -> Result<()> {
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
    let Some(refusal) = uncapped(ctx, &channel, &grants.join("; ")).await? else {
        return Ok(());
    };
    if !channel.allow_elevated {
        return Err(refusal);
    }
    if owner_allows_elevated(ctx, channel.role_property, role_name).await? {
        tracing::warn!(
            role = channel.role_arn,
            "an elevated channel role, accepted by the template and by the role's tag"
        );
        return Ok(());
    }
    Err(Error::invalid_property(
        channel.role_property,
        format!(
            "role {} grants elevated permissions ({}) that no guardrail caps, and \
             AllowElevatedPermissions: true is not enough on its own: the role's owner must accept it \
             too, by tagging the role {ALLOW_ELEVATED_TAG}=true (the provider's execution role cannot \
             write that tag); or use a narrower role or guardrails that cap it",
            channel.role_arn,
            grants.join("; ")
        ),
    ))
}

/// The refusal for elevated `granted` permissions that the channel's
/// guardrails do not cap, or `None` when they cap them.
async fn uncapped(
    ctx: &AccountContext,
    channel: &ChannelPermissions<'_>,
    granted: &str,
) -> Result<Option<Error>> {
    let Some((guardrail_property, guardrails)) = channel.guardrails else {
        return Ok(Some(Error::invalid_property(
            channel.role_property,
            format!(
                "role {} grants administrator-like or escalating permissions ({granted}), and this \
                 configuration type takes no guardrail policies to cap them; {}",
                channel.role_arn,
                how_to_accept(
                    "use a notifications-only role (see the NotificationsOnly template in \
                     examples/channel-roles.yaml)"
                )
            ),
        )));
    };
    if guardrails.is_empty() {
        return Ok(Some(Error::invalid_property(
            channel.role_property,
            format!(
                "role {} grants administrator-like or escalating permissions ({granted}) to every member \
                 of the channel, and no {guardrail_property} cap them (without guardrails AWS Chatbot \
                 applies AdministratorAccess); {}",
                channel.role_arn,
                how_to_accept(&format!(
                    "set {guardrail_property} to policies that cap what the channel may do (such as \
                     arn:aws:iam::aws:policy/ReadOnlyAccess, or the templates in \
                     examples/channel-roles.yaml), or use a narrower role"
                ))
            ),
        )));
    }
    for (index, policy_arn) in guardrails.iter().enumerate() {
        let path = format!("{guardrail_property}/{index}");
        let elevated = managed_policy_grants(ctx, &path, policy_arn).await?;
        if !elevated.is_empty() {
            return Ok(Some(Error::invalid_property(
                path,
                format!(
                    "role {} grants administrator-like or escalating permissions ({granted}), and \
                     guardrail policy {policy_arn} does not cap them ({}); {}",
                    channel.role_arn,
                    elevated.join("; "),
                    how_to_accept(
                        "use guardrails that cap what the channel may do (such as \
                         arn:aws:iam::aws:policy/ReadOnlyAccess, or the templates in \
                         examples/channel-roles.yaml)"
                    )
                ),
            )));
        }
    }
    Ok(None)
}

/// True when role `role_name` carries [`ALLOW_ELEVATED_TAG`] with the value
/// `true` (IAM tag keys are case-insensitive, so the key is compared so).
async fn owner_allows_elevated(
    ctx: &AccountContext,
    role_property: &str,
    role_name: &str,
) -> Result<bool> {
    let role = ctx
        .iam
        .get_role()
        .role_name(role_name)
        .send()
        .await
        .map_err(|e| {
            let err = Error::from_sdk("iam", "GetRole", role_name, e);
            if err.is_not_found() {
                Error::invalid_property(role_property, format!("role {role_name} does not exist"))
            } else {
                err
            }
        })?;
    Ok(role.role().is_some_and(|role| {
        role.tags().iter().any(|tag| {
            tag.key().eq_ignore_ascii_case(ALLOW_ELEVATED_TAG)
                && tag.value().trim().eq_ignore_ascii_case("true")
        })
    }))
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

/// The elevated grants of a policy document, one entry each: Allow
/// statements with `*` (or `*:*`) actions, with NotAction (everything but a
/// few), with an action (or a wildcard pattern matching one, such as
/// `iam:*Role*` or `*:Put*`) of [`ESCALATION_ACTIONS`], or with one of
/// [`ANY_ROLE_ACTIONS`] on every role. Conditions are not weighed: a grant
/// that escalates under some condition is counted.
pub fn elevated_grants(document: &Value) -> Vec<String> {
    let mut grants = Vec::new();
    let mut push = |grant: String| {
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    };
    for statement in statements(document) {
        if statement["Effect"] != "Allow" {
            continue;
        }
        let any_resource = strings(&statement["Resource"])
            .iter()
            .any(|r| covers_every_role(r))
            || !statement["NotResource"].is_null();
        for action in strings(&statement["Action"]) {
            let lower = action.to_ascii_lowercase();
            if lower == "*" || lower == "*:*" {
                push(format!("allows {action:?}"));
                continue;
            }
            let escalating: Vec<&str> = ESCALATION_ACTIONS
                .iter()
                .chain(if any_resource { ANY_ROLE_ACTIONS } else { &[] })
                .copied()
                .filter(|escalation| action_matches(&action, escalation))
                .collect();
            match escalating.as_slice() {
                [] => {}
                [only] if only.eq_ignore_ascii_case(&action) => {
                    let on = if ANY_ROLE_ACTIONS.contains(only) {
                        " on every role"
                    } else {
                        ""
                    };
                    push(format!(
                        "allows {action:?}{on}, which can escalate to any permission"
                    ));
                }
                matched => {
                    let shown = match matched {
                        [a, b, c, rest @ ..] if !rest.is_empty() => {
                            format!("{a}, {b}, {c} and {} more", rest.len())
                        }
                        _ => matched.join(", "),
                    };
                    push(format!(
                        "allows {action:?}, which covers {shown} (can escalate to any permission)"
                    ))
                }
            }
        }
        let except = strings(&statement["NotAction"]);
        if !except.is_empty() {
            push(format!("allows every action except {}", except.join(", ")));
        }
    }
    grants
}

/// True for a Resource element that names every role: `*`, or a pattern
/// whose role part is only a wildcard (`arn:aws:iam::*:role/*`, `...:*`).
fn covers_every_role(resource: &str) -> bool {
    resource == "*" || resource.ends_with(":*") || resource.ends_with(":role/*")
}

/// True when IAM action pattern `pattern` (with `*` and `?` wildcards,
/// matched without regard to case, as IAM does) matches `action`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern: Vec<u8> = pattern.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let action: Vec<u8> = action.bytes().map(|b| b.to_ascii_lowercase()).collect();
    // Iterative glob matching with one backtrack point (the last `*`).
    let (mut p, mut a) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while a < action.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, a));
                p += 1;
            }
            Some(&c) if c == b'?' || c == action[a] => {
                p += 1;
                a += 1;
            }
            _ => match star {
                Some((star_p, star_a)) => {
                    p = star_p + 1;
                    a = star_a + 1;
                    star = Some((star_p, star_a + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
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
        let grants = elevated_grants(&iam);
        assert_eq!(grants.len(), 2, "{grants:?}");
        assert!(
            grants[0].starts_with(r#"allows "IAM:*", which covers iam:AddUserToGroup"#)
                && grants[0].contains("more"),
            "{grants:?}"
        );
        assert_eq!(grants[1], r#"allows "*:*""#);
        let power_user = json!({"Statement": [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}
        ]});
        assert_eq!(
            elevated_grants(&power_user),
            ["allows every action except iam:*, organizations:*"]
        );
    }

    #[test]
    fn escalating_grants_are_elevated() {
        let allow = |action: Value, resource: &str| json!({"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]});
        for action in [
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
            "iam:CreatePolicyVersion",
            "iam:UpdateAssumeRolePolicy",
            "iam:CreateAccessKey",
            "iam:CreateLoginProfile",
            "iam:UpdateLoginProfile",
            "IAM:putrolepolicy",
        ] {
            let grants = elevated_grants(&allow(json!(action), "arn:aws:iam::100000000001:role/x"));
            assert_eq!(grants.len(), 1, "{action}: {grants:?}");
            assert!(grants[0].contains("can escalate"), "{grants:?}");
        }
        // Wildcards that cover an escalating action.
        for (pattern, covers) in [
            ("iam:*Role*", "iam:AttachRolePolicy"),
            ("*:Put*", "iam:PutRolePolicy"),
            ("iam:Create*", "iam:CreateAccessKey"),
            ("iam:?utRolePolicy", "iam:PutRolePolicy"),
            ("lambda:Update*", "lambda:UpdateFunctionCode"),
        ] {
            let grants = elevated_grants(&allow(json!([pattern]), "*"));
            assert!(
                grants.len() == 1 && grants[0].contains(covers),
                "{pattern}: {grants:?}"
            );
        }
        // Passing or assuming any role, but not one named role.
        for action in ["iam:PassRole", "sts:AssumeRole", "iam:Pass*"] {
            for every in ["*", "arn:aws:iam::100000000001:role/*", "arn:aws:iam::*:*"] {
                let grants = elevated_grants(&allow(json!(action), every));
                assert_eq!(grants.len(), 1, "{action} on {every}: {grants:?}");
            }
            let one = allow(
                json!(action),
                "arn:aws:iam::100000000001:role/chatops-lambda",
            );
            assert!(elevated_grants(&one).is_empty(), "{action} on one role");
        }
        let not_resource = json!({"Statement": [{"Effect": "Allow", "Action": "iam:PassRole",
            "NotResource": "arn:aws:iam::100000000001:role/admin"}]});
        assert_eq!(elevated_grants(&not_resource).len(), 1);
    }

    /// The member role is what the provider acts through: it must never be
    /// able to opt a channel role in by writing the owner's tag.
    #[test]
    fn the_member_role_may_never_write_the_opt_in_tag() {
        let template = include_str!("../../../cfn-templates/member-role.yaml");
        let statement = template
            .split("- Sid: NeverTagChannelRolesAllowElevated")
            .nth(1)
            .and_then(|rest| rest.split("- Sid:").next())
            .expect("member-role.yaml has the NeverTagChannelRolesAllowElevated statement");
        for needed in [
            "Effect: Deny",
            "- iam:TagRole",
            "- iam:UntagRole",
            "- iam:CreateRole",
            "Resource: \"*\"",
            "ForAnyValue:StringEqualsIgnoreCase:",
            &format!("aws:TagKeys: {ALLOW_ELEVATED_TAG}"),
        ] {
            assert!(
                statement.contains(needed),
                "{needed} missing in:{statement}"
            );
        }
        assert_eq!(
            template.matches("iam:Tag").count(),
            1,
            "the only iam:Tag* of the member role is this Deny"
        );
    }

    #[test]
    fn action_patterns_match_as_iam_matches_them() {
        assert!(action_matches("iam:*", "iam:PutRolePolicy"));
        assert!(action_matches("IAM:PUT*", "iam:PutRolePolicy"));
        assert!(action_matches("*", "sts:AssumeRole"));
        assert!(action_matches("iam:*Role*", "iam:UpdateAssumeRolePolicy"));
        assert!(action_matches("i?m:*Po*y", "iam:PutRolePolicy"));
        assert!(!action_matches("iam:Get*", "iam:PutRolePolicy"));
        assert!(!action_matches("iam:PutRolePolicy*x", "iam:PutRolePolicy"));
        assert!(!action_matches("s3:*", "iam:PutRolePolicy"));
        assert!(!action_matches("iam:PutRole", "iam:PutRolePolicy"));
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
        let lambda_invoke = json!({"Statement": [{
            "Effect": "Allow",
            "Action": ["lambda:invokeAsync", "lambda:invokeFunction", "iam:Get*", "iam:List*"],
            "Resource": "*"
        }]});
        assert!(elevated_grants(&lambda_invoke).is_empty());
    }
}
