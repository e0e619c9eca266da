//! The plan as people read it, in the style known from Terraform: `+`
//! create, `<=` adopt, `~` update in place, `-/+` replace, `-` delete, `!` drift, with a
//! unified diff of each changed property; colours only when asked (a
//! terminal without NO_COLOR).

use std::fmt::Write;

use similar::{ChangeTag, TextDiff};

use super::{AccountPlan, Action, Drift, Plan, PropertyChange, ResourcePlan, Shown, Summary};
use crate::template::KNOWN_AFTER_APPLY;

/// How text is rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// ANSI colours.
    pub color: bool,
}

/// Whether colours suit standard output: a terminal, and NO_COLOR unset or empty.
pub fn color_wanted(is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

#[derive(Clone, Copy)]
enum Style {
    Create,
    Delete,
    Update,
    Drift,
    Hunk,
    Bold,
    Dim,
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if !self.color {
            return text.to_owned();
        }
        let code = match style {
            Style::Create => "32",
            Style::Delete => "31",
            Style::Update => "33",
            Style::Drift => "35",
            Style::Hunk => "36",
            Style::Bold => "1",
            Style::Dim => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// Renders `plan` as text: its [`header`], each account's [`account`]
/// section, and the [`footer`] with the totals.
pub fn render(plan: &Plan, options: TextOptions) -> String {
    let mut out = header(plan, options);
    for account in &plan.accounts {
        out.push_str(&self::account(account, options));
    }
    out.push_str(&footer(&Summary::of_plan(plan), options));
    out
}

/// What the plan is of, and its notes: all known before any account is
/// planned, so that a long plan can be written as its accounts come.
pub fn header(plan: &Plan, options: TextOptions) -> String {
    let painter = Painter {
        color: options.color,
    };
    let mut out = String::new();
    let mut heading = format!("Plan of {}", plan.template);
    if let Some(change_set) = &plan.change_set {
        heading = format!(
            "Plan of change set {} [{}] of stack {} [{}] (execution status {}): \
             its template and parameters against the stack as deployed",
            change_set.name,
            change_set.id,
            change_set.stack_name,
            change_set.stack_id,
            change_set.execution_status
        );
    } else {
        if let Some(stack) = &plan.stack {
            let _ = write!(heading, " for stack {stack}");
        }
        if let Some(deployed) = &plan.deployed {
            let _ = write!(heading, ", compared with the deployed template {deployed}");
        }
    }
    let _ = writeln!(out, "{}", painter.paint(Style::Bold, &heading));
    for note in &plan.notes {
        let _ = writeln!(
            out,
            "{}",
            painter.paint(Style::Dim, &format!("note: {note}"))
        );
    }
    out
}

/// One account's section.
pub fn account(account: &AccountPlan, options: TextOptions) -> String {
    let painter = Painter {
        color: options.color,
    };
    let mut out = String::from("\n");
    let title = format!("Account {} {}", account.account_id, account.region);
    let _ = writeln!(out, "{}", painter.paint(Style::Bold, &title));
    match &account.outcome {
        Err(message) => {
            let _ = writeln!(
                out,
                "  {}",
                painter.paint(Style::Delete, &format!("error: {message}"))
            );
        }
        Ok(resources) => {
            for resource in resources
                .iter()
                .filter(|r| r.action.is_change() || r.drift.is_some() || r.problem.is_some())
            {
                render_resource(&mut out, &painter, resource);
                out.push('\n');
            }
            let summary = Summary::of_resources(resources);
            let line = if summary.has_changes() {
                format!("  Plan: {}.", counts(&summary))
            } else {
                format!(
                    "  No changes: {} resource{} match the template.",
                    summary.no_change,
                    if summary.no_change == 1 { "" } else { "s" }
                )
            };
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// The totals over every account.
pub fn footer(total: &Summary, options: TextOptions) -> String {
    let painter = Painter {
        color: options.color,
    };
    let mut line = format!(
        "Total over {} account{}: {}",
        total.accounts,
        if total.accounts == 1 { "" } else { "s" },
        counts(total)
    );
    let _ = write!(line, "; {} with changes", total.accounts_changed);
    if total.accounts_failed > 0 {
        let _ = write!(line, ", {} failed", total.accounts_failed);
    }
    if total.problems > 0 {
        let _ = write!(
            line,
            "; {} resource{} will fail",
            total.problems,
            if total.problems == 1 { "" } else { "s" }
        );
    }
    line.push('.');
    format!("\n{}\n", painter.paint(Style::Bold, &line))
}

fn counts(summary: &Summary) -> String {
    // Adoptions are counted only when there are some, so that plans without
    // them read as they always did.
    let adopt = if summary.adopt > 0 {
        format!("{} to adopt, ", summary.adopt)
    } else {
        String::new()
    };
    format!(
        "{} to create, {adopt}{} to update in place, {} to replace, {} to delete; {} drifted; {} unchanged",
        summary.create,
        summary.update,
        summary.replace,
        summary.delete,
        summary.drifted,
        summary.no_change
    )
}

fn label(resource: &ResourcePlan) -> String {
    let mut label = format!("{} ({}", resource.logical_id, resource.type_name);
    if let Some(key) = &resource.natural_key {
        let _ = write!(label, " {key:?}");
    }
    label.push(')');
    if let Some(id) = &resource.physical_id {
        let _ = write!(label, " [{id}]");
    }
    label
}

fn render_resource(out: &mut String, painter: &Painter, resource: &ResourcePlan) {
    let (symbol, style, verb) = match &resource.action {
        Action::Create => ("  +", Style::Create, "will be created".to_owned()),
        Action::Adopt => (
            " <=",
            Style::Update,
            "exists and belongs to no stack: will be adopted, with these changes".to_owned(),
        ),
        Action::Update => ("  ~", Style::Update, "will be updated in place".to_owned()),
        Action::Replace { reasons } => (
            "-/+",
            Style::Delete,
            format!("must be replaced (because of {})", reasons.join(", ")),
        ),
        Action::Delete => (
            "  -",
            Style::Delete,
            if resource.drift == Some(Drift::Deleted) {
                "will be deleted (owned by this stack, gone from the template); it is already gone"
                    .to_owned()
            } else {
                "will be deleted (owned by this stack, gone from the template)".to_owned()
            },
        ),
        Action::NoChange => match resource.drift {
            Some(Drift::Deleted) => (
                "  !",
                Style::Drift,
                "was deleted outside the template; deploying an unchanged template does not make it again"
                    .to_owned(),
            ),
            Some(Drift::Modified(_)) => (
                "  !",
                Style::Drift,
                "has drifted from the deployed template; deploying an unchanged template does not set it back"
                    .to_owned(),
            ),
            None => ("  =", Style::Dim, "does not change".to_owned()),
        },
    };
    let _ = writeln!(
        out,
        "  {}",
        painter.paint(Style::Dim, &format!("# {} {verb}", label(resource)))
    );
    let _ = writeln!(
        out,
        "{} {}",
        painter.paint(style, symbol),
        resource.logical_id
    );
    let width = resource
        .changes
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or_default();
    for change in &resource.changes {
        match resource.action {
            Action::Create => {
                let line = Assignment::new("+", Style::Create, &change.name, width);
                line.write(out, painter, &change.after);
            }
            Action::Delete => {
                let line = Assignment::new("-", Style::Delete, &change.name, width);
                line.write(out, painter, &change.before);
            }
            _ => property_diff(out, painter, "~", Style::Update, change),
        }
    }
    match &resource.drift {
        Some(Drift::Modified(changes)) => {
            if resource.action.is_change() {
                let _ = writeln!(
                    out,
                    "      {}",
                    painter.paint(
                        Style::Drift,
                        "# drifted: live differs from the deployed template (deployed -, live +); this deploy sets it"
                    )
                );
            } else {
                let _ = writeln!(
                    out,
                    "      {}",
                    painter.paint(Style::Drift, "# deployed -, live +")
                );
            }
            for change in changes {
                property_diff(out, painter, "!", Style::Drift, change);
            }
        }
        Some(Drift::Deleted) if resource.action.is_change() => {
            let _ = writeln!(
                out,
                "      {}",
                painter.paint(
                    Style::Drift,
                    "# drifted: it was deleted outside the template"
                )
            );
        }
        _ => {}
    }
    if let Some(problem) = &resource.problem {
        let _ = writeln!(
            out,
            "      {}",
            painter.paint(Style::Delete, &format!("error: {problem}"))
        );
    }
}

/// How a value is shown: secrets as `(sensitive)`, never their value (also
/// what the Markdown output shows).
pub(super) fn text_of(value: &Shown) -> Option<String> {
    match value {
        Shown::Absent => None,
        Shown::Value(v) => Some(serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())),
        Shown::Sensitive => Some("(sensitive)".to_owned()),
        Shown::KnownAfterApply => Some(KNOWN_AFTER_APPLY.to_owned()),
    }
}

/// One hunk of a value's line diff.
pub(super) struct Hunk {
    /// Its `@@ -a,b +c,d @@` header.
    pub header: String,
    /// Its lines, each marked `-`, `+` or ` `.
    pub lines: Vec<(char, String)>,
}

/// The line diff of a changed property's value, hunk by hunk; `None` when
/// either side is a secret, which no output may diff (also what the Markdown
/// output shows).
pub(super) fn value_diff(change: &PropertyChange) -> Option<Vec<Hunk>> {
    if matches!(change.before, Shown::Sensitive) || matches!(change.after, Shown::Sensitive) {
        return None;
    }
    let with_newline = |v: &Shown| text_of(v).map(|t| format!("{t}\n")).unwrap_or_default();
    let old = with_newline(&change.before);
    let new = with_newline(&change.after);
    let diff = TextDiff::from_lines(&old, &new);
    let mut unified = diff.unified_diff();
    unified.context_radius(3).missing_newline_hint(false);
    let hunks = unified
        .iter_hunks()
        .map(|hunk| {
            let lines = hunk
                .iter_changes()
                .map(|line| {
                    let mark = match line.tag() {
                        ChangeTag::Delete => '-',
                        ChangeTag::Insert => '+',
                        ChangeTag::Equal => ' ',
                    };
                    (mark, line.value().trim_end_matches('\n').to_owned())
                })
                .collect();
            Hunk {
                header: hunk.header().to_string(),
                lines,
            }
        })
        .collect();
    Some(hunks)
}

/// One `+ Name = value` line (and the lines of a long value), names padded to `width`.
struct Assignment<'a> {
    sign: &'a str,
    style: Style,
    name: &'a str,
    width: usize,
}

impl<'a> Assignment<'a> {
    fn new(sign: &'a str, style: Style, name: &'a str, width: usize) -> Self {
        Assignment {
            sign,
            style,
            name,
            width,
        }
    }

    fn write(&self, out: &mut String, painter: &Painter, value: &Shown) {
        let text = text_of(value).unwrap_or_else(|| "null".to_owned());
        let name = format!("{:<width$}", self.name, width = self.width);
        let prefix = format!("      {} {name} = ", painter.paint(self.style, self.sign));
        let indent = " ".repeat(8 + name.len() + 3);
        for (index, line) in text.lines().enumerate() {
            if index == 0 {
                let _ = writeln!(out, "{prefix}{line}");
            } else {
                let _ = writeln!(out, "{indent}{line}");
            }
        }
    }
}

fn property_diff(
    out: &mut String,
    painter: &Painter,
    sign: &str,
    style: Style,
    change: &PropertyChange,
) {
    let mut head = format!("      {} {}", painter.paint(style, sign), change.name);
    if change.forces_replacement {
        let _ = write!(
            head,
            " {}",
            painter.paint(Style::Delete, "# forces replacement")
        );
    }
    let Some(hunks) = value_diff(change) else {
        let _ = writeln!(out, "{head} = (sensitive value changed)");
        return;
    };
    let _ = writeln!(out, "{head}");
    for hunk in hunks {
        let _ = writeln!(
            out,
            "          {}",
            painter.paint(Style::Hunk, &hunk.header)
        );
        for (mark, text) in hunk.lines {
            let body = format!("{mark}{text}");
            let _ = writeln!(
                out,
                "          {}",
                match mark {
                    '-' => painter.paint(Style::Delete, &body),
                    '+' => painter.paint(Style::Create, &body),
                    _ => body,
                }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_is_honoured() {
        assert!(color_wanted(true, None));
        assert!(color_wanted(true, Some("".into())));
        assert!(!color_wanted(true, Some("1".into())));
        assert!(!color_wanted(false, None));
    }
}
