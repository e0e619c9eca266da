//! `chatops doctor`: whether a template can deploy in each account, before
//! the first deploy, and what is left to do by whom.
//!
//! Each account is read through the same roles the provider and `chatops
//! plan` use (member-role.yaml): the plan role is assumed, the execution role
//! is read. One module per family of checks: [`roles`], [`chatbot`],
//! [`supportapp`], [`channels`]; [`console`] holds the console procedures of
//! the steps no API can do; [`text`], [`markdown`] and [`json`] print a
//! [`Report`].

use std::collections::BTreeMap;

use futures::{StreamExt, stream};
use serde::Serialize;

use crate::accounts::{AccountContext, Accounts, Target};
use crate::endpoints::Service;
use crate::error::{Error, Result};

pub mod channels;
pub mod chatbot;
pub mod console;
pub mod json;
pub mod markdown;
pub mod needs;
pub mod roles;
pub mod supportapp;
pub mod text;

pub use needs::Needs;

/// What one check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nothing to do.
    Ready,
    /// Nothing blocks the deploy, but something is worth knowing.
    Note,
    /// The template cannot deploy in this account until the step is done.
    Blocked,
}

impl Status {
    /// The word the text and markdown reports show.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::Note => "note",
            Status::Blocked => "BLOCKED",
        }
    }
}

/// Who must do a step: the person with access to do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// An administrator of the organization's management account.
    ManagementAccountAdmin,
    /// An administrator of the member account named in the step.
    MemberAccountAdmin,
    /// The platform team that owns the provider, its StackSets and the template.
    PlatformTeam,
}

impl Who {
    /// The heading of this group of steps.
    pub fn heading(self) -> &'static str {
        match self {
            Who::ManagementAccountAdmin => "Organization management account admin",
            Who::MemberAccountAdmin => "Member account admins",
            Who::PlatformTeam => "Platform team",
        }
    }
}

/// What to do about a blocked check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Step {
    /// Who can do it.
    pub who: Who,
    /// The account to sign in to.
    pub account_id: String,
    /// One line: what the step achieves.
    pub title: String,
    /// The console page to open, for a step only the console can do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
    /// The procedure, in the words of the AWS documentation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instructions: Vec<String>,
    /// The command or template change that fixes it, for a fixable item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The AWS documentation page of the procedure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One check of one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The family: roles, chatbot, support app, channel role, topic.
    pub area: &'static str,
    /// What was checked (a role, a workspace, a topic).
    pub subject: String,
    /// What it found.
    pub status: Status,
    /// The finding in a few words.
    pub detail: String,
    /// What to do, when something must be done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
}

impl Check {
    /// A check with nothing to do.
    pub fn ready(
        area: &'static str,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Check {
            area,
            subject: subject.into(),
            status: Status::Ready,
            detail: detail.into(),
            step: None,
        }
    }

    /// A check worth knowing about that blocks nothing.
    pub fn note(area: &'static str, subject: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            status: Status::Note,
            ..Check::ready(area, subject, detail)
        }
    }

    /// A check that blocks the deploy until `step` is done.
    pub fn blocked(
        area: &'static str,
        subject: impl Into<String>,
        detail: impl Into<String>,
        step: Step,
    ) -> Self {
        Check {
            status: Status::Blocked,
            step: Some(step),
            ..Check::ready(area, subject, detail)
        }
    }
}

/// Everything found in one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountReport {
    /// The account.
    pub account_id: String,
    /// `ready`, `blocked` or `error`.
    pub status: &'static str,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// Why the account could not be checked to the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AccountReport {
    fn new(account_id: &str, checks: Vec<Check>, error: Option<String>) -> Self {
        let status = if error.is_some() {
            "error"
        } else if checks.iter().any(|c| c.status == Status::Blocked) {
            "blocked"
        } else {
            "ready"
        };
        AccountReport {
            account_id: account_id.to_owned(),
            status,
            checks,
            error,
        }
    }
}

/// The report of a doctor run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The template checked against, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The organization's management account.
    pub management_account_id: String,
    /// One report per account, in the order given.
    pub accounts: Vec<AccountReport>,
}

/// Exit code: every account is ready.
pub const EXIT_READY: u8 = 0;
/// Exit code: an account could not be checked.
pub const EXIT_ERROR: u8 = 1;
/// Exit code: something blocks the template in some account.
pub const EXIT_BLOCKED: u8 = 2;

impl Report {
    /// 1 when an account could not be checked, else 2 when one is blocked, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.accounts.iter().any(|a| a.error.is_some()) {
            EXIT_ERROR
        } else if self.accounts.iter().any(|a| a.status == "blocked") {
            EXIT_BLOCKED
        } else {
            EXIT_READY
        }
    }

    /// Every step to do, grouped by who does it, each once (the management
    /// account's steps are found from many accounts), in account order.
    pub fn steps_by_who(&self) -> BTreeMap<Who, Vec<&Step>> {
        let mut groups: BTreeMap<Who, Vec<&Step>> = BTreeMap::new();
        for check in self.accounts.iter().flat_map(|a| &a.checks) {
            if let Some(step) = &check.step {
                let group = groups.entry(step.who).or_default();
                if !group.contains(&step) {
                    group.push(step);
                }
            }
        }
        groups
    }
}

/// What a template needs in the account given (the template resolved for it).
pub type NeedsOf<'a> = &'a (dyn Fn(&str) -> Result<Needs> + Sync);

/// How the accounts are reached and what they are checked against.
pub struct Doctor<'a> {
    /// The accounts, reached through the plan role (`--role-name`).
    pub accounts: &'a Accounts,
    /// The plan role's name, for the steps that name it.
    pub plan_role_name: String,
    /// The execution role's name (member-role.yaml's RoleName).
    pub execution_role_name: String,
    /// The provider's role (provider.yaml's output ProviderRoleArn), which the
    /// execution role must trust; `None`: any role with an ExternalId passes.
    pub provider_role_arn: Option<String>,
    /// The region of the stacks (`AWS::Region`).
    pub region: String,
    /// What the template needs, per account; `None`: no template given.
    pub needs: Option<NeedsOf<'a>>,
    /// Accounts checked at once.
    pub concurrency: usize,
}

const SESSION: &str = "chatops-doctor";

impl Doctor<'_> {
    /// Checks `accounts`, calling `progress` after each.
    pub async fn run(&self, accounts: &[String], progress: &(dyn Fn() + Sync)) -> Result<Report> {
        let management_account_id = self.accounts.management_account_id().await?;
        let management = supportapp::Management::read(self, &management_account_id).await;
        let reports = stream::iter(accounts)
            .map(|account_id| {
                let management = &management;
                async move {
                    let (checks, error) = self.account(account_id, management).await;
                    progress();
                    AccountReport::new(account_id, checks, error.map(|e| e.to_string()))
                }
            })
            .buffered(self.concurrency.max(1))
            .collect()
            .await;
        Ok(Report {
            template: None,
            management_account_id,
            accounts: reports,
        })
    }

    /// The checks of one account, and the error that stopped them, if any.
    async fn account(
        &self,
        account_id: &str,
        management: &supportapp::Management,
    ) -> (Vec<Check>, Option<Error>) {
        let mut checks = Vec::new();
        let needs = match self.needs.map(|needs| needs(account_id)).transpose() {
            Ok(needs) => needs,
            Err(e) => return (checks, Some(e)),
        };
        // An account outside the organization is an error, not a step: the
        // provider never acts there.
        if let Err(e) = self.accounts.check_membership(account_id).await {
            return (checks, Some(e));
        }
        let contexts = match self.contexts(account_id).await {
            Ok(contexts) => contexts,
            Err(Error::AccessDenied(why)) => {
                checks.push(roles::plan_role_not_assumed(self, account_id, &why));
                return (checks, None);
            }
            Err(e) => return (checks, Some(e)),
        };
        let (chatbot_ctx, supportapp_ctx) = contexts;
        checks.push(roles::plan_role_assumed(self));
        let result = async {
            let execution = roles::check_execution_role(self, &chatbot_ctx, &mut checks).await?;
            chatbot::check(&chatbot_ctx, needs.as_ref(), &mut checks).await?;
            supportapp::check(&supportapp_ctx, management, needs.as_ref(), &mut checks).await?;
            if let Some(needs) = &needs {
                channels::check(&chatbot_ctx, execution.as_ref(), needs, &mut checks).await?;
                // Roles and topics the template makes itself exist only once it deploys.
                checks.extend(needs.unknown.iter().map(|property| {
                    Check::note(
                        "template",
                        property.clone(),
                        "known only after deploy (made by the template): not checked",
                    )
                }));
            }
            Ok::<(), Error>(())
        }
        .await;
        (checks, result.err())
    }

    /// The plan role's clients in `account_id`: one in the Chatbot region,
    /// one in the Support App region (each API is served in a few regions).
    async fn contexts(&self, account_id: &str) -> Result<(AccountContext, AccountContext)> {
        let target = |service| -> Result<Target> {
            Ok(Target {
                account_id: account_id.to_owned(),
                region: self.accounts.service_region(service)?,
                partition: crate::template::partition_of(&self.region).to_owned(),
            })
        };
        let chatbot = self
            .accounts
            .account_context(&target(Service::Chatbot)?, SESSION)
            .await?;
        let supportapp = self
            .accounts
            .account_context(&target(Service::SupportApp)?, SESSION)
            .await?;
        Ok((chatbot, supportapp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(who: Who, account_id: &str) -> Step {
        Step {
            who,
            account_id: account_id.to_owned(),
            title: "do it".to_owned(),
            console_url: None,
            instructions: Vec::new(),
            fix: None,
            source: None,
        }
    }

    fn report(accounts: Vec<AccountReport>) -> Report {
        Report {
            template: None,
            management_account_id: "123456789012".to_owned(),
            accounts,
        }
    }

    #[test]
    fn the_exit_code_says_ready_blocked_or_error() {
        let ready =
            AccountReport::new("100000000001", vec![Check::ready("roles", "r", "ok")], None);
        let management_step = step(Who::ManagementAccountAdmin, "123456789012");
        let blocked = |account: &str| {
            AccountReport::new(
                account,
                vec![Check::blocked(
                    "support app",
                    "w",
                    "no",
                    management_step.clone(),
                )],
                None,
            )
        };
        let error = AccountReport::new("100000000004", Vec::new(), Some("throttled".to_owned()));
        assert_eq!(report(vec![ready.clone()]).exit_code(), EXIT_READY);
        let two = report(vec![
            ready.clone(),
            blocked("100000000002"),
            blocked("100000000003"),
        ]);
        assert_eq!(two.exit_code(), EXIT_BLOCKED);
        assert_eq!(
            two.steps_by_who()[&Who::ManagementAccountAdmin],
            [&management_step],
            "the management account's step, found from two accounts, is listed once"
        );
        assert_eq!(
            report(vec![blocked("100000000002"), error]).exit_code(),
            EXIT_ERROR
        );
    }
}
