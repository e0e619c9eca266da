//! `chatops validate TEMPLATE`: every custom resource of the template checked
//! against its type's schema, offline.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::plan::{ParameterArgs, load_template};
use super::{EXIT_ERROR, EXIT_OK};
use crate::template::Pseudo;
use crate::validate;

/// Check every custom resource of a template against its schema, offline. Parameters without a
/// value are taken as known at deploy time.
#[derive(Debug, clap::Args)]
pub struct Validate {
    /// The template (JSON or YAML).
    template: PathBuf,
    #[command(flatten)]
    parameters: ParameterArgs,
    /// The account the template is resolved for (AWS::AccountId).
    #[arg(long, value_name = "ID", default_value = "123456789012")]
    account_id: String,
    /// The region the template is resolved for (AWS::Region).
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

impl Validate {
    /// Runs the command, printing to `out`.
    pub fn execute(self, out: &mut dyn Write) -> anyhow::Result<u8> {
        crate::plan::targets::parse_account_ids(&self.account_id)?;
        let template = load_template(&self.template)?;
        let source = template.source.clone();
        let parameters = self.parameters.values(&template)?;
        let resolver = template
            .resolver(
                Pseudo::unnamed(&self.account_id, &self.region),
                &parameters,
                validate::options(),
            )
            .with_context(|| format!("in template {source}"))?;
        let validation = validate::validate(&template, &resolver);
        for finding in &validation.findings {
            let kind = if finding.is_error { "error" } else { "warning" };
            writeln!(
                out,
                "{source}: {kind}: {}: {}",
                finding.location, finding.problem
            )?;
        }
        let errors = validation.findings.iter().filter(|f| f.is_error).count();
        let checked = validation.checked.len();
        let resources = if checked == 1 {
            "resource"
        } else {
            "resources"
        };
        if errors == 0 {
            writeln!(out, "{source}: {checked} custom {resources} valid")?;
            Ok(EXIT_OK)
        } else {
            writeln!(
                out,
                "{source}: {errors} problem{} in {checked} custom {resources}",
                if errors == 1 { "" } else { "s" }
            )?;
            Ok(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::testing::{TEMPLATE, file, parse, text};

    fn run(args: &[&str]) -> (anyhow::Result<u8>, String) {
        let Command::Validate(validate) = parse(args) else {
            panic!("not the validate command")
        };
        let mut out = Vec::new();
        let result = validate.execute(&mut out);
        (result, text(out))
    }

    #[test]
    fn a_valid_template_says_how_many_resources_it_checked() {
        let path = file("good.yaml", TEMPLATE);
        let source = path.display().to_string();
        let (result, printed) = run(&["validate", &source]);
        assert_eq!(result.unwrap(), EXIT_OK);
        assert_eq!(printed, format!("{source}: 1 custom resource valid\n"));
    }

    #[test]
    fn each_problem_is_a_line_that_names_where_it_is() {
        let bad = TEMPLATE
            .replace(
                "SlackChannelId: C0ALERTS1",
                "SlackChannelId: \"not a channel\"",
            )
            .replace("LoggingLevel: ERROR", "LoggingLevel: LOUD");
        let path = file("bad.yaml", &bad);
        let source = path.display().to_string();
        let (result, printed) = run(&["validate", &source]);
        assert_eq!(result.unwrap(), EXIT_ERROR);
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines.len(), 3, "{printed}");
        for property in ["LoggingLevel", "SlackChannelId"] {
            let prefix =
                format!("{source}: error: Resources/AlertsChannel/Properties/{property}: ");
            assert!(
                lines.iter().any(|line| line.starts_with(&prefix)),
                "{prefix}\n{printed}"
            );
        }
        assert_eq!(
            lines[2],
            format!("{source}: 2 problems in 1 custom resource")
        );
    }

    #[test]
    fn a_bad_account_id_is_refused_before_the_template_is_read() {
        let (result, printed) = run(&["validate", "missing.yaml", "--account-id", "12345"]);
        let message = format!("{:#}", result.unwrap_err());
        assert!(message.contains("12345"), "{message}");
        assert!(printed.is_empty());
    }
}
