//! The report for a terminal: a table per account, then the steps grouped
//! by who must do them, then a summary line.

use std::fmt::Write as _;

use super::{AccountReport, Report, Step};

/// The text report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", heading(report));
    for account in &report.accounts {
        out.push('\n');
        account_table(&mut out, account);
    }
    let groups = report.steps_by_who();
    if !groups.is_empty() {
        let _ = writeln!(out, "\nSteps still to do, by who must do them");
        for (who, steps) in groups {
            let _ = writeln!(out, "\n{}:", who.heading());
            for (index, step) in steps.iter().enumerate() {
                step_text(&mut out, index + 1, step);
            }
        }
    }
    let _ = writeln!(out, "\n{}", summary(report));
    out
}

/// The first line: what was checked.
pub fn heading(report: &Report) -> String {
    format!(
        "chatops doctor: {} account(s){}, management account {}",
        report.accounts.len(),
        report
            .template
            .as_deref()
            .map(|t| format!(" against {t}"))
            .unwrap_or_else(|| " (no template: what each account has)".to_owned()),
        report.management_account_id
    )
}

/// The last line: how many accounts are ready, blocked, not checked.
pub fn summary(report: &Report) -> String {
    let count = |status: &str| {
        report
            .accounts
            .iter()
            .filter(|a| a.status == status)
            .count()
    };
    format!(
        "{} ready, {} blocked, {} not checked (error)",
        count("ready"),
        count("blocked"),
        count("error")
    )
}

fn account_table(out: &mut String, account: &AccountReport) {
    let _ = writeln!(out, "Account {}: {}", account.account_id, account.status);
    if account.checks.is_empty() {
        if let Some(error) = &account.error {
            let _ = writeln!(out, "  error: {error}");
        }
        return;
    }
    let rows: Vec<[&str; 4]> = account
        .checks
        .iter()
        .map(|c| {
            [
                c.status.label(),
                c.area,
                c.subject.as_str(),
                c.detail.as_str(),
            ]
        })
        .collect();
    let header = ["STATUS", "AREA", "SUBJECT", "DETAIL"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(
            out,
            "  {:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    if let Some(error) = &account.error {
        let _ = writeln!(out, "  error: {error}");
    }
}

fn step_text(out: &mut String, number: usize, step: &Step) {
    let _ = writeln!(
        out,
        "  {number}. [account {}] {}",
        step.account_id, step.title
    );
    if let Some(url) = &step.console_url {
        let _ = writeln!(out, "     Open {url}");
    }
    for (index, line) in step.instructions.iter().enumerate() {
        let _ = writeln!(out, "     {}) {line}", index + 1);
    }
    if let Some(fix) = &step.fix {
        let _ = writeln!(out, "     Fix: {fix}");
    }
    if let Some(source) = &step.source {
        let _ = writeln!(out, "     See {source}");
    }
}
