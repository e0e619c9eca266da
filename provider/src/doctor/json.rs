//! The report as JSON (`chatops doctor --json`): the [`Report`] as it is,
//! with the steps grouped by who must do them, as the text report shows them.

use serde_json::{Value, json};

use super::Report;

/// The JSON document of `report`.
pub fn render(report: &Report) -> Value {
    let steps: Vec<Value> = report
        .steps_by_who()
        .into_iter()
        .map(|(who, steps)| json!({"who": who, "steps": steps}))
        .collect();
    json!({
        "template": report.template,
        "management_account_id": report.management_account_id,
        "exit_code": report.exit_code(),
        "accounts": report.accounts,
        "steps": steps,
    })
}
