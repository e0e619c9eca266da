//! The report as Markdown (`--format markdown`), for a pull request or a
//! ticket: a summary table, a table per account, then the steps grouped by
//! who must do them, as numbered lists.

use std::fmt::Write as _;

use super::{Report, Step, text};

/// The Markdown report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", text::heading(report));
    let _ = writeln!(out, "| account | status | blocked checks |\n|---|---|---|");
    for account in &report.accounts {
        let blocked = account
            .checks
            .iter()
            .filter(|c| c.status == super::Status::Blocked)
            .count();
        let _ = writeln!(
            out,
            "| `{}` | {} | {blocked} |",
            account.account_id, account.status
        );
    }
    for account in &report.accounts {
        let _ = writeln!(
            out,
            "\n## Account `{}`: {}\n",
            account.account_id, account.status
        );
        if !account.checks.is_empty() {
            let _ = writeln!(
                out,
                "| status | area | subject | detail |\n|---|---|---|---|"
            );
        }
        for check in &account.checks {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                check.status.label(),
                check.area,
                cell(&check.subject),
                cell(&check.detail)
            );
        }
        if let Some(error) = &account.error {
            let _ = writeln!(out, "\n**Error:** {}", cell(error));
        }
    }
    let groups = report.steps_by_who();
    if !groups.is_empty() {
        let _ = writeln!(out, "\n## Steps still to do");
        for (who, steps) in groups {
            let _ = writeln!(out, "\n### {}\n", who.heading());
            for (index, step) in steps.iter().enumerate() {
                step_markdown(&mut out, index + 1, step);
            }
        }
    }
    let _ = writeln!(out, "\n{}", text::summary(report));
    out
}

/// Table cell text: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn step_markdown(out: &mut String, number: usize, step: &Step) {
    let _ = writeln!(
        out,
        "{number}. **Account `{}`**: {}",
        step.account_id, step.title
    );
    if let Some(url) = &step.console_url {
        let _ = writeln!(out, "   - Open <{url}>");
    }
    for (index, line) in step.instructions.iter().enumerate() {
        let _ = writeln!(out, "   {}. {line}", index + 1);
    }
    if let Some(fix) = &step.fix {
        let _ = writeln!(out, "   - Fix: {fix}");
    }
    if let Some(source) = &step.source {
        let _ = writeln!(out, "   - See <{source}>");
    }
}
