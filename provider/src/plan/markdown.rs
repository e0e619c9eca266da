//! The plan as a pull request comment (GitHub-flavoured Markdown,
//! `--format markdown`): a summary table first (account, create, update,
//! replace, delete, drift), then one collapsible `<details>` section per
//! account with its property diffs. Secrets are hidden exactly as the text
//! output hides them (the same [`super::text::text_of`]), and the whole
//! stays under a GitHub comment's size limit, with a note of what was cut.

use std::fmt::Write;

use super::text::{text_of, value_diff};
use super::{AccountPlan, Action, Drift, Plan, PropertyChange, ResourcePlan, Shown, Summary};

/// The most characters GitHub takes in a comment body (its API answers 422
/// "Body is too long (maximum is 65536 characters)").
pub const COMMENT_LIMIT: usize = 65_536;

/// What the rendered plan is kept under by default: below the limit, so a
/// workflow can add a line (such as a marker to find its comment again).
pub const DEFAULT_BUDGET: usize = 60_000;

/// How Markdown is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// The most bytes the output may take (bytes: never fewer than GitHub's characters).
    pub budget: usize,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            budget: DEFAULT_BUDGET,
        }
    }
}

/// Room kept for the total row and the note of what was cut.
const RESERVE: usize = 1_000;

/// Renders `plan` as Markdown within `options.budget`.
pub fn render(plan: &Plan, options: MarkdownOptions) -> String {
    let mut out = heading(plan);
    let shown: Vec<&AccountPlan> = plan.accounts.iter().filter(|a| worth_showing(a)).collect();
    let quiet = plan.accounts.len() - shown.len();

    out.push_str("| Account | Region | Create | Update | Replace | Delete | Drift |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
    let mut rows_cut = 0;
    for account in &shown {
        let row = table_row(account);
        if rows_cut > 0 || out.len() + row.len() + RESERVE > options.budget / 2 {
            rows_cut += 1;
        } else {
            out.push_str(&row);
        }
    }
    if quiet > 0 {
        let _ = writeln!(
            out,
            "| {quiet} other account{} | | 0 | 0 | 0 | 0 | 0 |",
            plural(quiet)
        );
    }
    let total = Summary::of_plan(plan);
    let _ = writeln!(
        out,
        "| **Total: {} account{}** | | **{}** | **{}** | **{}** | **{}** | **{}** |",
        total.accounts,
        plural(total.accounts),
        total.create,
        total.update,
        total.replace,
        total.delete,
        total.drifted
    );
    let mut problems = Vec::new();
    if total.accounts_failed > 0 {
        problems.push(format!(
            "{} account{} could not be planned",
            total.accounts_failed,
            plural(total.accounts_failed)
        ));
    }
    if total.problems > 0 {
        problems.push(format!(
            "{} resource{} will fail to deploy",
            total.problems,
            plural(total.problems)
        ));
    }
    if !problems.is_empty() {
        let _ = writeln!(out, "\n**Errors:** {}.", problems.join("; "));
    }

    let mut sections_cut = 0;
    for account in &shown {
        let section = account_section(account);
        if sections_cut > 0 || out.len() + section.len() + RESERVE > options.budget {
            sections_cut += 1;
        } else {
            out.push('\n');
            out.push_str(&section);
        }
    }
    if rows_cut + sections_cut > 0 {
        let mut cut = Vec::new();
        if rows_cut > 0 {
            cut.push(format!("{rows_cut} row{} of the table", plural(rows_cut)));
        }
        if sections_cut > 0 {
            cut.push(format!(
                "the details of {sections_cut} account{}",
                plural(sections_cut)
            ));
        }
        let _ = write!(
            out,
            "\n> **Cut to fit a GitHub comment** (at most {} characters): {} {} not shown. \
             Run `chatops plan` with `--format text` or `--format json` for the whole plan.\n",
            group_digits(COMMENT_LIMIT),
            cut.join(" and "),
            if rows_cut + sections_cut == 1 {
                "is"
            } else {
                "are"
            }
        );
    }
    out
}

fn heading(plan: &Plan) -> String {
    let mut out = String::new();
    if let Some(change_set) = &plan.change_set {
        let _ = writeln!(
            out,
            "### chatops plan of change set {}\n\n\
             What executing change set {} ({}) of stack {} ({}) would do; its execution status is {}.\n",
            code(&change_set.name),
            code(&change_set.name),
            code(&change_set.id),
            code(&change_set.stack_name),
            code(&change_set.stack_id),
            code(&change_set.execution_status)
        );
    } else {
        let _ = write!(out, "### chatops plan of {}", code(&plan.template));
        if let Some(stack) = &plan.stack {
            let _ = write!(out, " for stack {}", code(stack));
        }
        out.push_str("\n\n");
        if let Some(deployed) = &plan.deployed {
            let _ = writeln!(
                out,
                "Compared with the deployed template {}.\n",
                code(deployed)
            );
        }
    }
    for note in &plan.notes {
        let _ = writeln!(out, "> note: {}", escape(note));
    }
    if !plan.notes.is_empty() {
        out.push('\n');
    }
    out
}

fn worth_showing(account: &AccountPlan) -> bool {
    let summary = Summary::of_account(account);
    summary.has_changes() || summary.has_errors()
}

fn table_row(account: &AccountPlan) -> String {
    let summary = Summary::of_account(account);
    let id = code(&account.account_id);
    if account.outcome.is_err() {
        return format!(
            "| {id} | {} | error: could not be planned | | | | |\n",
            escape(&account.region)
        );
    }
    format!(
        "| {id} | {} | {} | {} | {} | {} | {} |\n",
        escape(&account.region),
        summary.create,
        summary.update,
        summary.replace,
        summary.delete,
        summary.drifted
    )
}

fn account_section(account: &AccountPlan) -> String {
    let mut out = String::new();
    let title = match &account.outcome {
        Err(_) => "could not be planned".to_owned(),
        Ok(resources) => {
            let s = Summary::of_resources(resources);
            format!(
                "{} to create, {} to update, {} to replace, {} to delete, {} drifted",
                s.create, s.update, s.replace, s.delete, s.drifted
            )
        }
    };
    let _ = writeln!(
        out,
        "<details><summary>{} {}: {}</summary>\n",
        html(&account.account_id),
        html(&account.region),
        title
    );
    match &account.outcome {
        Err(message) => {
            let _ = writeln!(out, "**error:** {}\n", escape(message));
        }
        Ok(resources) => {
            for resource in resources
                .iter()
                .filter(|r| r.action.is_change() || r.drift.is_some() || r.problem.is_some())
            {
                resource_section(&mut out, resource);
            }
        }
    }
    out.push_str("</details>\n");
    out
}

fn resource_section(out: &mut String, resource: &ResourcePlan) {
    let (symbol, verb) = match &resource.action {
        Action::Create => ("+", "will be created".to_owned()),
        Action::Adopt => (
            "<=",
            "exists and belongs to no stack: will be **adopted**, with these changes".to_owned(),
        ),
        Action::Update => ("~", "will be updated in place".to_owned()),
        Action::Replace { reasons } => (
            "-/+",
            format!(
                "must be **replaced** (because of {})",
                reasons.iter().map(|r| code(r)).collect::<Vec<_>>().join(", ")
            ),
        ),
        Action::Delete => (
            "-",
            "will be deleted (owned by this stack, gone from the template)".to_owned(),
        ),
        Action::NoChange => match resource.drift {
            Some(Drift::Deleted) => (
                "!",
                "was deleted outside the template; deploying an unchanged template does not make it again"
                    .to_owned(),
            ),
            Some(Drift::Modified(_)) => (
                "!",
                "has drifted from the deployed template; deploying an unchanged template does not set it back"
                    .to_owned(),
            ),
            None => ("=", "does not change".to_owned()),
        },
    };
    let _ = write!(
        out,
        "{} **{}** {}",
        code(symbol),
        escape(&resource.logical_id),
        code(&resource.type_name)
    );
    if let Some(key) = &resource.natural_key {
        let _ = write!(out, " {}", code(key));
    }
    let _ = writeln!(out, " {verb}");
    if let Some(id) = &resource.physical_id {
        let _ = writeln!(out, "<br>physical id {}", code(id));
    }
    out.push('\n');

    let mut lines = Vec::new();
    for change in &resource.changes {
        match resource.action {
            Action::Create => assignment(&mut lines, "+", change, &change.after),
            Action::Delete => assignment(&mut lines, "-", change, &change.before),
            _ => property_diff(&mut lines, "~", change),
        }
    }
    match &resource.drift {
        Some(Drift::Modified(changes)) => {
            lines.push(if resource.action.is_change() {
                "! drifted: live differs from the deployed template (deployed -, live +); this deploy sets it"
                    .to_owned()
            } else {
                "! deployed -, live +".to_owned()
            });
            for change in changes {
                property_diff(&mut lines, "!", change);
            }
        }
        Some(Drift::Deleted) if resource.action.is_change() => {
            lines.push("! drifted: it was deleted outside the template".to_owned());
        }
        _ => {}
    }
    if !lines.is_empty() {
        let body = lines.join("\n");
        let fence = fence_for(&body);
        let _ = writeln!(out, "{fence}diff\n{body}\n{fence}\n");
    }
    if let Some(problem) = &resource.problem {
        let _ = writeln!(out, "**error:** {}\n", escape(problem));
    }
}

fn assignment(lines: &mut Vec<String>, sign: &str, change: &PropertyChange, value: &Shown) {
    let text = text_of(value).unwrap_or_else(|| "null".to_owned());
    for (index, line) in text.lines().enumerate() {
        if index == 0 {
            lines.push(format!("{sign} {} = {line}", change.name));
        } else {
            lines.push(format!("{sign}   {line}"));
        }
    }
}

fn property_diff(lines: &mut Vec<String>, sign: &str, change: &PropertyChange) {
    let mut head = format!("{sign} {}", change.name);
    if change.forces_replacement {
        head.push_str("  # forces replacement");
    }
    let Some(hunks) = value_diff(change) else {
        lines.push(format!("{head} = (sensitive value changed)"));
        return;
    };
    lines.push(head);
    for hunk in hunks {
        lines.push(format!("  {}", hunk.header));
        lines.extend(
            hunk.lines
                .into_iter()
                .map(|(mark, text)| format!("{mark} {text}")),
        );
    }
}

/// A code fence longer than any run of backticks in `body`, so no value can close it.
fn fence_for(body: &str) -> String {
    let longest = body
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    "`".repeat(longest.max(2) + 1)
}

/// `text` as inline code, safe in a table cell.
fn code(text: &str) -> String {
    let flat = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    if flat.contains('`') {
        format!("`` {flat} ``")
    } else {
        format!("`{flat}`")
    }
}

/// `text` as plain Markdown: no markup, no HTML, no table break.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `text` inside HTML (the `<summary>` line, where Markdown is not read).
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn group_digits(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, c) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_value_can_close_its_fence_or_break_the_table() {
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(
            escape("<img src=x> *b* | [l](u)"),
            "&lt;img src=x&gt; \\*b\\* \\| \\[l\\](u)"
        );
        assert_eq!(group_digits(65_536), "65,536");
    }

    #[test]
    fn a_change_set_plan_says_which_change_set_it_explains() {
        let plan = Plan {
            template: "change set review-1".into(),
            deployed: Some("stack app".into()),
            stack: Some("app".into()),
            change_set: Some(super::super::change_set::ChangeSetRef {
                name: "review-1".into(),
                id: "arn:aws:cloudformation:us-east-1:100000000001:changeSet/review-1/0a".into(),
                stack_name: "app".into(),
                stack_id: "arn:aws:cloudformation:us-east-1:100000000001:stack/app/0b".into(),
                execution_status: "AVAILABLE".into(),
            }),
            notes: Vec::new(),
            accounts: Vec::new(),
        };
        let markdown = render(&plan, MarkdownOptions::default());
        assert!(
            markdown.starts_with("### chatops plan of change set `review-1`\n"),
            "{markdown}"
        );
        assert!(
            markdown.contains("(`arn:aws:cloudformation:us-east-1:100000000001:changeSet/review-1/0a`) of stack `app` (`arn:aws:cloudformation:us-east-1:100000000001:stack/app/0b`)"),
            "{markdown}"
        );
        let text = super::super::text::render(&plan, Default::default());
        assert!(
            text.starts_with("Plan of change set review-1 [arn:aws:cloudformation:us-east-1:100000000001:changeSet/review-1/0a] of stack app"),
            "{text}"
        );
    }
}
