//! The roles of cfn-templates/member-role.yaml in each account: the plan role
//! the doctor reads through (assumed, or the account cannot be checked), and
//! the execution role the provider acts through (present, trusting a role with
//! an ExternalId, and which channel roles its iam:PassRole lets it pass).

use serde_json::Value;

use super::{Check, Doctor, Step, Who};
use crate::accounts::AccountContext;
use crate::error::{Error, Result};
use crate::resources::guardrails::action_matches;
use crate::resources::prerequisites::{policy_document, statements};

const AREA: &str = "roles";

/// What the doctor learnt of the execution role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionRole {
    /// The Resource patterns of its Allow statements for iam:PassRole.
    pub pass_role_resources: Vec<String>,
}

impl ExecutionRole {
    /// True when its iam:PassRole allows passing role `role_arn`.
    pub fn can_pass(&self, role_arn: &str) -> bool {
        self.pass_role_resources
            .iter()
            .any(|pattern| arn_matches(pattern, role_arn))
    }
}

/// An IAM Resource pattern (`*` and `?`, case-sensitive) against an ARN.
fn arn_matches(pattern: &str, arn: &str) -> bool {
    fn matches(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], s) || (!s.is_empty() && matches(p, &s[1..])),
            (Some(b'?'), Some(_)) => matches(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => matches(&p[1..], &s[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), arn.as_bytes())
}

/// The check of an account whose plan role was assumed.
pub fn plan_role_assumed(doctor: &Doctor<'_>) -> Check {
    Check::ready(
        AREA,
        format!("plan role {}", doctor.plan_role_name),
        "assumed",
    )
}

/// The check of an account the doctor cannot enter: nothing else can be read there.
pub fn plan_role_not_assumed(doctor: &Doctor<'_>, account_id: &str, why: &str) -> Check {
    Check::blocked(
        AREA,
        format!("plan role {}", doctor.plan_role_name),
        format!("cannot be assumed, so nothing else was checked: {why}"),
        Step {
            who: Who::PlatformTeam,
            account_id: account_id.to_owned(),
            title: format!(
                "Deploy the roles of cfn-templates/member-role.yaml to account {account_id}, with PlanPrincipalArn naming who runs chatops doctor"
            ),
            console_url: None,
            instructions: Vec::new(),
            fix: Some(format!(
                "add account {account_id} to the member-role StackSet (a plain stack of cfn-templates/member-role.yaml where a service-managed StackSet does not deploy, such as the management account), with PlanPrincipalArn set and PlanRoleName {}",
                doctor.plan_role_name
            )),
            source: None,
        },
    )
}

/// Checks the execution role through the plan role (iam:GetRole,
/// ListRolePolicies, GetRolePolicy): present, trusting a role with an
/// ExternalId. Returns what it may pass, or `None` when it is missing.
pub async fn check_execution_role(
    doctor: &Doctor<'_>,
    ctx: &AccountContext,
    checks: &mut Vec<Check>,
) -> Result<Option<ExecutionRole>> {
    let name = &doctor.execution_role_name;
    let subject = format!("execution role {name}");
    let fix_step = |title: String| Step {
        who: Who::PlatformTeam,
        account_id: ctx.account_id().to_owned(),
        title,
        console_url: None,
        instructions: Vec::new(),
        fix: Some(format!(
            "deploy cfn-templates/member-role.yaml to account {} (the member-role StackSet; a plain stack where a service-managed StackSet does not deploy, such as the management account), RoleName {name}, ProviderRoleArn and ExternalId as in provider.yaml",
            ctx.account_id()
        )),
        source: None,
    };
    let role = match ctx.iam.get_role().role_name(name).send().await {
        Ok(role) => role,
        Err(e) => {
            let err = Error::from_sdk("iam", "GetRole", name, e);
            if err.is_not_found() {
                checks.push(Check::blocked(
                    AREA,
                    subject,
                    "missing: the provider cannot act in this account",
                    fix_step(format!(
                        "Deploy the execution role {name} to account {}",
                        ctx.account_id()
                    )),
                ));
                return Ok(None);
            }
            return Err(err);
        }
    };
    let trust = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .and_then(policy_document)
        .unwrap_or(Value::Null);
    let principals = trusted_with_external_id(&trust);
    match trust_problem(&principals, doctor.provider_role_arn.as_deref()) {
        Some(problem) => checks.push(Check::blocked(
            AREA,
            subject,
            problem,
            fix_step(format!(
                "Make the execution role {name} in account {} trust the provider's role with the ExternalId",
                ctx.account_id()
            )),
        )),
        None => checks.push(Check::ready(
            AREA,
            subject,
            format!("present; trusts {} with an ExternalId", principals.join(", ")),
        )),
    }
    Ok(Some(ExecutionRole {
        pass_role_resources: pass_role_resources(ctx, name).await?,
    }))
}

/// Why the provider cannot assume a role that trusts `principals` (with an
/// ExternalId), when it is the role `provider_role_arn` (if known).
fn trust_problem(principals: &[String], provider_role_arn: Option<&str>) -> Option<String> {
    if principals.is_empty() {
        return Some(
            "trusts no role with an sts:ExternalId condition: the provider cannot assume it"
                .to_owned(),
        );
    }
    let provider = provider_role_arn?;
    (!principals.iter().any(|p| p == provider)).then(|| {
        format!(
            "trusts {} with an ExternalId, not the provider's role {provider}: the provider cannot assume it",
            principals.join(", ")
        )
    })
}

/// The AWS principals an Allow of sts:AssumeRole trusts under an sts:ExternalId condition.
fn trusted_with_external_id(trust: &Value) -> Vec<String> {
    let mut principals = Vec::new();
    for statement in statements(trust) {
        let assumes = strings(&statement["Action"])
            .iter()
            .any(|a| action_matches(a, "sts:AssumeRole"));
        let external_id = statement["Condition"]
            .as_object()
            .into_iter()
            .flat_map(|operators| operators.values())
            .any(|keys| {
                keys.as_object().is_some_and(|k| {
                    k.keys()
                        .any(|key| key.eq_ignore_ascii_case("sts:ExternalId"))
                })
            });
        if statement["Effect"] == "Allow" && assumes && external_id {
            principals.extend(strings(&statement["Principal"]["AWS"]));
        }
    }
    principals
}

/// The Resource patterns of the Allow statements for iam:PassRole in the
/// role's inline policies (member-role.yaml grants it there).
async fn pass_role_resources(ctx: &AccountContext, role_name: &str) -> Result<Vec<String>> {
    let mut resources = Vec::new();
    let mut pages = ctx
        .iam
        .list_role_policies()
        .role_name(role_name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::from_sdk("iam", "ListRolePolicies", role_name, e))?;
        for policy_name in page.policy_names() {
            let policy = ctx
                .iam
                .get_role_policy()
                .role_name(role_name)
                .policy_name(policy_name)
                .send()
                .await
                .map_err(|e| {
                    Error::from_sdk(
                        "iam",
                        "GetRolePolicy",
                        &format!("{role_name}/{policy_name}"),
                        e,
                    )
                })?;
            let Some(document) = policy_document(policy.policy_document()) else {
                continue;
            };
            for statement in statements(&document) {
                let passes = strings(&statement["Action"])
                    .iter()
                    .any(|a| action_matches(a, "iam:PassRole"));
                if statement["Effect"] == "Allow" && passes {
                    resources.extend(strings(&statement["Resource"]));
                }
            }
        }
    }
    Ok(resources)
}

/// A policy element that is a string or a list of strings.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pass_role_patterns_match_as_iam_does() {
        let role = ExecutionRole {
            pass_role_resources: vec![
                "arn:aws:iam::100000000001:role/chatops-*".to_owned(),
                "arn:aws:iam::100000000001:role/chatops/*".to_owned(),
            ],
        };
        assert!(role.can_pass("arn:aws:iam::100000000001:role/chatops-chatbot-channel"));
        assert!(role.can_pass("arn:aws:iam::100000000001:role/chatops/Any"));
        assert!(!role.can_pass("arn:aws:iam::100000000001:role/ChatOps-upper"));
        assert!(!role.can_pass("arn:aws:iam::100000000002:role/chatops-other-account"));
        assert!(!role.can_pass("arn:aws:iam::100000000001:role/admin"));
    }

    #[test]
    fn a_trust_of_another_role_than_the_providers_is_a_problem() {
        let trusted = ["arn:aws:iam::123456789012:role/chatops-provider-us-east-1".to_owned()];
        assert_eq!(trust_problem(&trusted, None), None);
        assert_eq!(trust_problem(&trusted, Some(&trusted[0])), None);
        let moved = trust_problem(
            &trusted,
            Some("arn:aws:iam::123456789012:role/chatops-provider-eu-west-1"),
        )
        .expect("a problem");
        assert!(moved.contains("not the provider's role"), "{moved}");
        assert!(trust_problem(&[], None).is_some());
    }

    #[test]
    fn only_an_assume_role_under_an_external_id_counts_as_the_providers_trust() {
        let trust = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/p"},
             "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x"}}},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/q"},
             "Action": "sts:AssumeRole"}
        ]});
        assert_eq!(
            trusted_with_external_id(&trust),
            ["arn:aws:iam::123456789012:role/p"]
        );
    }
}
