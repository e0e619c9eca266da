//! The channel roles and SNS topics the template names, checked with the
//! very functions the provider runs before a Create: the role exists and
//! trusts the service ([`check_channel_role`]), its permissions are capped
//! by guardrails or accepted ([`check_channel_permissions`]), each topic
//! exists with raw message delivery off on Chatbot's subscription
//! ([`check_topics`]). Added here: whether the execution role's iam:PassRole
//! lets the provider pass the role at all (member-role.yaml passes only
//! roles named with ChannelRoleNamePrefix or under ChannelRolePath).

use std::collections::BTreeSet;

use super::roles::ExecutionRole;
use super::{Check, Needs, Step, Who};
use crate::accounts::AccountContext;
use crate::error::{Error, Result};
use crate::resources::guardrails::{ChannelPermissions, check_channel_permissions};
use crate::resources::prerequisites::{check_channel_role, check_topics};

const ROLE_AREA: &str = "channel role";
const TOPIC_AREA: &str = "topic";

/// Adds the channel role and topic checks of the account to `checks`.
pub async fn check(
    ctx: &AccountContext,
    execution: Option<&ExecutionRole>,
    needs: &Needs,
    checks: &mut Vec<Check>,
) -> Result<()> {
    let mut seen = BTreeSet::new();
    for role in &needs.channel_roles {
        let subject = format!("{} ({})", role.arn, role.logical_id);
        let step = |who: Who, title: String, fix: String| Step {
            who,
            account_id: ctx.account_id().to_owned(),
            title,
            console_url: None,
            instructions: Vec::new(),
            fix: Some(fix),
            source: None,
        };
        if let Some(execution) = execution {
            if !execution.can_pass(&role.arn) {
                checks.push(Check::blocked(
                    ROLE_AREA,
                    subject,
                    "the execution role may not pass it (iam:PassRole)",
                    step(
                        Who::PlatformTeam,
                        format!("Use a channel role the provider may pass, in {}", role.logical_id),
                        format!(
                            "name the role with member-role.yaml's ChannelRoleNamePrefix or put it under its ChannelRolePath (the execution role passes only {})",
                            execution.pass_role_resources.join(", ")
                        ),
                    ),
                ));
                continue;
            }
        }
        // One trust check per role and service; the guardrail verdict is per resource.
        if seen.insert((role.arn.clone(), role.service)) {
            if let Some(problem) =
                finding(check_channel_role(ctx, role.property, &role.arn, role.service).await)?
            {
                checks.push(Check::blocked(
                    ROLE_AREA,
                    subject,
                    problem.clone(),
                    step(
                        Who::MemberAccountAdmin,
                        format!(
                            "Create or fix channel role {} in account {}",
                            role.arn,
                            ctx.account_id()
                        ),
                        problem,
                    ),
                ));
                continue;
            }
        }
        let Some(guardrails) = &role.guardrails else {
            checks.push(Check::ready(
                ROLE_AREA,
                subject,
                format!("present, trusts {}", role.service),
            ));
            continue;
        };
        let verdict = check_channel_permissions(
            ctx,
            ChannelPermissions {
                role_property: role.property,
                role_arn: &role.arn,
                guardrails: Some(("GuardrailPolicies", guardrails)),
                allow_elevated: role.allow_elevated,
            },
        )
        .await;
        checks.push(match finding(verdict)? {
            None => Check::ready(
                ROLE_AREA,
                subject,
                format!(
                    "present, trusts {}, guardrails: not elevated or capped",
                    role.service
                ),
            ),
            Some(problem) => Check::blocked(
                ROLE_AREA,
                subject,
                format!("guardrails: {problem}"),
                step(
                    Who::PlatformTeam,
                    format!(
                        "Cap the permissions of channel {} (guardrails)",
                        role.logical_id
                    ),
                    problem,
                ),
            ),
        });
    }
    for (topic, users) in &needs.topics {
        let subject = format!("{topic} ({})", users.join(", "));
        let verdict = check_topics(ctx, "SnsTopicArns", std::slice::from_ref(topic)).await;
        checks.push(match finding(verdict)? {
            None => Check::ready(TOPIC_AREA, subject, "present, raw message delivery off"),
            Some(problem) => Check::blocked(
                TOPIC_AREA,
                subject,
                problem.clone(),
                Step {
                    who: Who::MemberAccountAdmin,
                    account_id: topic
                        .split(':')
                        .nth(4)
                        .unwrap_or(ctx.account_id())
                        .to_owned(),
                    title: format!("Fix SNS topic {topic}"),
                    console_url: None,
                    instructions: Vec::new(),
                    fix: Some(problem),
                    source: None,
                },
            ),
        });
    }
    Ok(())
}

/// What a provider check refused, in its own words (they say what to do);
/// `None` when it passed. Other errors (access, throttling) stop the account.
fn finding(result: Result<()>) -> Result<Option<String>> {
    match result {
        Ok(()) => Ok(None),
        Err(Error::InvalidProperty { problem, .. }) | Err(Error::NotAuthorized(problem)) => {
            Ok(Some(problem))
        }
        Err(other) => Err(other),
    }
}
