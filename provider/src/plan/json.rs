//! The JSON form of a plan (`chatops plan --json`, `chatops diff --json`).
//!
//! The shape is stable: fields are only ever added, and `format_version`
//! changes if one ever changes meaning. Version 1:
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "template": "examples/chatops-stack.yaml",
//!   "deployed": "deployed.yaml",            // or null
//!   "stack": "chatops",                      // or null
//!   "change_set": {                          // or null: the change set planned (--change-set)
//!     "name": "review-42", "id": "arn:aws:cloudformation:...:changeSet/review-42/...",
//!     "stack_name": "chatops", "stack_id": "arn:aws:cloudformation:...:stack/chatops/...",
//!     "execution_status": "AVAILABLE"
//!   },
//!   "notes": ["not planned (...): ..."],
//!   "accounts": [
//!     {
//!       "account_id": "100000000001",
//!       "region": "us-east-1",
//!       "status": "ok",                      // or "error"
//!       "error": null,                       // the message when status is "error"
//!       "resources": [
//!         {
//!           "logical_id": "AlertsChannel",
//!           "type": "Custom::ChatbotSlackChannel",
//!           "natural_key": "alerts-100000000001",   // or null
//!           "physical_id": "arn:aws:chatbot::...", // or null
//!           "action": "update",          // create | adopt | update | replace | delete | no-change
//!           "replacement_reasons": [],   // create-only properties forcing a replace
//!           "changes": [
//!             {
//!               "property": "LoggingLevel",
//!               "before": "INFO",        // null when absent, sensitive or known after apply
//!               "after": "ERROR",
//!               "before_state": "value", // value | absent | sensitive | known-after-apply
//!               "after_state": "value",
//!               "forces_replacement": false
//!             }
//!           ],
//!           "drift": null,               // or {"kind": "modified", "changes": [...]}
//!                                        // (before = deployed, after = live)
//!                                        // or {"kind": "deleted", "changes": []}
//!           "problem": null              // why the deploy of this resource will fail
//!         }
//!       ],
//!       "summary": { ...as below, for this account... }
//!     }
//!   ],
//!   "summary": {
//!     "create": 0, "adopt": 0, "update": 1, "replace": 0, "delete": 0, "no_change": 2,
//!     "drifted": 0, "problems": 0,
//!     "accounts": 1, "accounts_failed": 0, "accounts_changed": 1,
//!     "has_changes": true, "has_errors": false
//!   }
//! }
//! ```
//!
//! Secrets (write-only properties, NoEcho parameter values) are never in it:
//! their `before`/`after` are null with the state `sensitive`. Lists whose
//! order does not matter are sorted. A value that is only partly known after
//! apply shows the string `(known after apply)` for that part.

use serde_json::{Value, json};

use super::{AccountPlan, Action, Drift, Plan, PropertyChange, ResourcePlan, Shown, Summary};

/// The version of the shape below.
pub const FORMAT_VERSION: u32 = 1;

/// The JSON document of `plan`.
pub fn render(plan: &Plan) -> Value {
    json!({
        "format_version": FORMAT_VERSION,
        "template": plan.template,
        "deployed": plan.deployed,
        "stack": plan.stack,
        "change_set": plan.change_set.as_ref().map(|c| json!({
            "name": c.name,
            "id": c.id,
            "stack_name": c.stack_name,
            "stack_id": c.stack_id,
            "execution_status": c.execution_status,
        })),
        "notes": plan.notes,
        "accounts": plan.accounts.iter().map(account).collect::<Vec<_>>(),
        "summary": summary(&Summary::of_plan(plan)),
    })
}

fn account(account: &AccountPlan) -> Value {
    let (status, error, resources) = match &account.outcome {
        Ok(resources) => ("ok", None, resources.iter().map(resource).collect()),
        Err(message) => ("error", Some(message.clone()), Vec::new()),
    };
    json!({
        "account_id": account.account_id,
        "region": account.region,
        "status": status,
        "error": error,
        "resources": resources,
        "summary": summary(&Summary::of_account(account)),
    })
}

fn resource(resource: &ResourcePlan) -> Value {
    let reasons = match &resource.action {
        Action::Replace { reasons } => reasons.clone(),
        _ => Vec::new(),
    };
    let drift = resource.drift.as_ref().map(|drift| match drift {
        Drift::Modified(changes) => json!({
            "kind": "modified",
            "changes": changes.iter().map(change).collect::<Vec<_>>(),
        }),
        Drift::Deleted => json!({"kind": "deleted", "changes": []}),
    });
    json!({
        "logical_id": resource.logical_id,
        "type": resource.type_name,
        "natural_key": resource.natural_key,
        "physical_id": resource.physical_id,
        "action": resource.action.name(),
        "replacement_reasons": reasons,
        "changes": resource.changes.iter().map(change).collect::<Vec<_>>(),
        "drift": drift,
        "problem": resource.problem,
    })
}

fn change(change: &PropertyChange) -> Value {
    let (before, before_state) = shown(&change.before);
    let (after, after_state) = shown(&change.after);
    json!({
        "property": change.name,
        "before": before,
        "after": after,
        "before_state": before_state,
        "after_state": after_state,
        "forces_replacement": change.forces_replacement,
    })
}

fn shown(value: &Shown) -> (Value, &'static str) {
    match value {
        Shown::Absent => (Value::Null, "absent"),
        Shown::Value(v) => (v.clone(), "value"),
        Shown::Sensitive => (Value::Null, "sensitive"),
        Shown::KnownAfterApply => (Value::Null, "known-after-apply"),
    }
}

fn summary(summary: &Summary) -> Value {
    json!({
        "create": summary.create,
        "adopt": summary.adopt,
        "update": summary.update,
        "replace": summary.replace,
        "delete": summary.delete,
        "no_change": summary.no_change,
        "drifted": summary.drifted,
        "problems": summary.problems,
        "accounts": summary.accounts,
        "accounts_failed": summary.accounts_failed,
        "accounts_changed": summary.accounts_changed,
        "has_changes": summary.has_changes(),
        "has_errors": summary.has_errors(),
    })
}
