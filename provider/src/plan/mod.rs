//! What a template (or a StackSet) would do in each target account, before
//! anything is deployed: create, update in place, replace (and which property
//! forces it), delete, no change, and drift of the live resources from the
//! deployed template.
//!
//! The decision for each resource is [`crate::change::decide_for`], the very
//! function the Lambda's Update runs, so a preview never disagrees with a
//! deploy. This module holds the result; [`compare`] computes it for one
//! resource type, [`run`] reads the accounts, and [`text`] and [`json`]
//! render it.

use serde_json::Value;

pub mod change_set;
pub mod compare;
pub mod json;
pub mod live;
pub mod markdown;
pub mod run;
pub mod targets;
pub mod text;

#[cfg(test)]
mod tests;

/// A plan over one or more accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What was planned: the template file, or the StackSet.
    pub template: String,
    /// The template the plan compares with (`--deployed`, the StackSet's current
    /// template), when there is one.
    pub deployed: Option<String>,
    /// The stack (or StackSet) whose resources the plan owns, when known.
    pub stack: Option<String>,
    /// The change set the plan explains (`chatops plan --change-set`).
    pub change_set: Option<change_set::ChangeSetRef>,
    /// Notes that hold for every account (such as resource types not planned).
    pub notes: Vec<String>,
    /// One entry per target account (and region), in account order.
    pub accounts: Vec<AccountPlan>,
}

/// The plan of one account (a stack or StackSet instance there).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountPlan {
    /// The account id.
    pub account_id: String,
    /// The region of the stack.
    pub region: String,
    /// The resources, in logical id order; or why the account could not be planned.
    pub outcome: Result<Vec<ResourcePlan>, String>,
}

/// What the deploy does to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Made anew.
    Create,
    /// Taken over: it exists, no stack owns it, and the template says `Adopt:
    /// true`; the deploy applies the changes shown (and, for AWS Chatbot, its
    /// ownership tags).
    Adopt,
    /// Updated where it is.
    Update,
    /// A new resource replaces the old one, because of `reasons` (create-only properties).
    Replace {
        /// The create-only properties whose change forces the replacement.
        reasons: Vec<String>,
    },
    /// Deleted: owned by this stack, gone from the template.
    Delete,
    /// Left as it is.
    NoChange,
}

impl Action {
    /// The name used in JSON output and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Adopt => "adopt",
            Action::Update => "update",
            Action::Replace { .. } => "replace",
            Action::Delete => "delete",
            Action::NoChange => "no-change",
        }
    }

    /// True for every action but [`Action::NoChange`].
    pub fn is_change(&self) -> bool {
        !matches!(self, Action::NoChange)
    }
}

/// A property value as a plan may show it.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// The property is not set.
    Absent,
    /// The value.
    Value(Value),
    /// A secret (write-only property or NoEcho parameter): set, never shown.
    Sensitive,
    /// Known only after apply (Fn::GetAtt, Fn::ImportValue, Ref of a resource).
    KnownAfterApply,
}

/// One property that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyChange {
    /// The property name.
    pub name: String,
    /// Its value before (live, or deployed when nothing live is read).
    pub before: Shown,
    /// Its value after (the template's; for drift, the live one).
    pub after: Shown,
    /// Whether this change forces a replacement.
    pub forces_replacement: bool,
}

/// How a resource's live state differs from the deployed template.
#[derive(Debug, Clone, PartialEq)]
pub enum Drift {
    /// Properties were changed outside the template: deployed value before, live after.
    Modified(Vec<PropertyChange>),
    /// The resource was deleted outside the template.
    Deleted,
}

/// What the plan says about one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePlan {
    /// The logical id (for a delete, the one its managed tag names).
    pub logical_id: String,
    /// The resource type.
    pub type_name: String,
    /// The natural key (such as the ConfigurationName), when known.
    pub natural_key: Option<String>,
    /// The live resource's physical id, when there is one.
    pub physical_id: Option<String>,
    /// What the deploy does.
    pub action: Action,
    /// The properties that change, with before and after.
    pub changes: Vec<PropertyChange>,
    /// Drift of the live resource from the deployed template.
    pub drift: Option<Drift>,
    /// Why the deploy of this resource will fail (a conflict, an invalid
    /// property, a replacement that needs a new name), when it will.
    pub problem: Option<String>,
}

/// Counts of a plan, per account or in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Resources created.
    pub create: usize,
    /// Resources adopted.
    pub adopt: usize,
    /// Resources updated in place.
    pub update: usize,
    /// Resources replaced.
    pub replace: usize,
    /// Resources deleted.
    pub delete: usize,
    /// Resources left as they are.
    pub no_change: usize,
    /// Resources whose live state drifted from the deployed template.
    pub drifted: usize,
    /// Resources whose deploy will fail.
    pub problems: usize,
    /// Accounts planned.
    pub accounts: usize,
    /// Accounts that could not be planned.
    pub accounts_failed: usize,
    /// Accounts with a change or a drift.
    pub accounts_changed: usize,
}

impl Summary {
    /// The counts of `resources`.
    pub fn of_resources(resources: &[ResourcePlan]) -> Summary {
        let mut summary = Summary::default();
        for resource in resources {
            match resource.action {
                Action::Create => summary.create += 1,
                Action::Adopt => summary.adopt += 1,
                Action::Update => summary.update += 1,
                Action::Replace { .. } => summary.replace += 1,
                Action::Delete => summary.delete += 1,
                Action::NoChange => summary.no_change += 1,
            }
            if resource.drift.is_some() {
                summary.drifted += 1;
            }
            if resource.problem.is_some() {
                summary.problems += 1;
            }
        }
        summary
    }

    /// The counts of one account.
    pub fn of_account(account: &AccountPlan) -> Summary {
        let mut summary = match &account.outcome {
            Ok(resources) => Summary::of_resources(resources),
            Err(_) => Summary {
                accounts_failed: 1,
                ..Summary::default()
            },
        };
        summary.accounts = 1;
        if summary.has_changes() {
            summary.accounts_changed = 1;
        }
        summary
    }

    /// The counts over every account of `plan`.
    pub fn of_plan(plan: &Plan) -> Summary {
        plan.accounts
            .iter()
            .map(Summary::of_account)
            .fold(Summary::default(), |a, b| a.plus(&b))
    }

    /// The counts of both.
    pub fn plus(self, other: &Summary) -> Summary {
        Summary {
            create: self.create + other.create,
            adopt: self.adopt + other.adopt,
            update: self.update + other.update,
            replace: self.replace + other.replace,
            delete: self.delete + other.delete,
            no_change: self.no_change + other.no_change,
            drifted: self.drifted + other.drifted,
            problems: self.problems + other.problems,
            accounts: self.accounts + other.accounts,
            accounts_failed: self.accounts_failed + other.accounts_failed,
            accounts_changed: self.accounts_changed + other.accounts_changed,
        }
    }

    /// True when something would change or has drifted.
    pub fn has_changes(&self) -> bool {
        self.create + self.adopt + self.update + self.replace + self.delete + self.drifted > 0
    }

    /// True when an account failed or a resource's deploy will fail.
    pub fn has_errors(&self) -> bool {
        self.accounts_failed + self.problems > 0
    }
}

/// The exit code of `--detailed-exitcode`: 0 no changes, 2 changes, 1 an error.
pub fn detailed_exit_code(summary: &Summary) -> u8 {
    if summary.has_errors() {
        1
    } else if summary.has_changes() {
        2
    } else {
        0
    }
}
