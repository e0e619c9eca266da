//! `chatops diff OLD NEW`: what deploying NEW over OLD would do, from the two
//! templates alone, with no cloud at all; the same output as `chatops plan`.

use std::io::Write;
use std::path::PathBuf;

use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::plan::{OutputArgs, ParameterArgs, load_template};
use crate::accounts::Accounts;
use crate::config::ProviderConfig;
use crate::plan::AccountPlan;
use crate::plan::run::{self, Inputs, StackTarget};

/// Compare two templates, offline: what deploying NEW over OLD would create, update, replace
/// or delete, with a diff of every changed property.
#[derive(Debug, clap::Args)]
pub struct Diff {
    /// The template deployed now (JSON or YAML).
    old: PathBuf,
    /// The template to deploy (JSON or YAML).
    new: PathBuf,
    #[command(flatten)]
    parameters: ParameterArgs,
    /// The account both templates are resolved for (AWS::AccountId).
    #[arg(long, value_name = "ID", default_value = "123456789012")]
    account_id: String,
    /// The region both templates are resolved for (AWS::Region; default: AWS_REGION, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// The stack's name (AWS::StackName); known only after apply when not given.
    #[arg(long, value_name = "NAME")]
    stack_name: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

impl Diff {
    /// Runs the command, printing to `out`.
    pub fn execute(self, out: &mut dyn Write) -> anyhow::Result<u8> {
        crate::plan::targets::parse_account_ids(&self.account_id)?;
        let old = load_template(&self.old)?;
        let new = load_template(&self.new)?;
        let parameters = self.parameters.values(&new)?;
        // A GetAtt of an attribute the type lacks fails the deploy wherever it is.
        if let Some(first) = crate::validate::attribute_findings(&new).first() {
            anyhow::bail!(
                "in template {}: {}: {}",
                new.source,
                first.location,
                first.problem
            );
        }
        let region = self
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()))
            .unwrap_or_else(|| "us-east-1".to_owned());
        // No cloud: a provider that never calls out. The stack's account may
        // name any AccountId, so resources aimed elsewhere are compared too.
        let config = ProviderConfig {
            admin_accounts: [self.account_id.clone()].into(),
            ..ProviderConfig::from_env()
        };
        let sdk = SdkConfig::builder()
            .region(Region::new(region.clone()))
            .behavior_version(BehaviorVersion::latest())
            .build();
        let accounts = Accounts::new(config, sdk);
        let target = StackTarget {
            account_id: self.account_id.clone(),
            region: region.clone(),
            stack_name: self.stack_name.clone(),
            stack_id: None,
            parameters: parameters.clone(),
            deployed_parameters: parameters,
        };
        // A parameter without a value is the same unknown in both templates.
        let mut inputs = Inputs::new(new, Some(old));
        inputs.missing_parameters_unknown = true;
        let outcome =
            run::diff_stack(&accounts, &inputs, &target).map_err(|e| anyhow::anyhow!("{e}"))?;
        let plan = run::assemble(
            &inputs,
            self.stack_name.clone(),
            vec![AccountPlan {
                account_id: self.account_id,
                region,
                outcome: Ok(outcome),
            }],
        );
        self.output.finish(&plan, out)
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{TEMPLATE, file, parse, text};
    use crate::cli::{Command, EXIT_OK};

    fn run(args: &[&str]) -> (anyhow::Result<u8>, String) {
        let Command::Diff(diff) = parse(args) else {
            panic!("not the diff command")
        };
        let mut out = Vec::new();
        let result = diff.execute(&mut out);
        (result, text(out))
    }

    fn templates() -> (String, String) {
        let old = file("old.yaml", TEMPLATE);
        let new = file(
            "new.yaml",
            &TEMPLATE.replace("LoggingLevel: ERROR", "LoggingLevel: INFO"),
        );
        (old.display().to_string(), new.display().to_string())
    }

    #[test]
    fn the_same_template_twice_changes_nothing() {
        let (old, _) = templates();
        let (result, printed) = run(&["diff", &old, &old, "--detailed-exitcode", "--no-color"]);
        assert_eq!(result.unwrap(), 0);
        assert!(printed.contains("No changes"), "{printed}");
    }

    #[test]
    fn a_changed_property_is_shown_with_its_diff_and_the_exit_code_says_so() {
        let (old, new) = templates();
        let args = ["diff", &old, &new, "--stack-name", "app", "--no-color"];
        let (result, printed) = run(&args);
        assert_eq!(result.unwrap(), EXIT_OK, "without --detailed-exitcode");
        assert!(printed.contains("~ AlertsChannel"), "{printed}");
        assert!(
            printed.contains("-\"ERROR\"") && printed.contains("+\"INFO\""),
            "{printed}"
        );
        assert!(!printed.contains('\u{1b}'), "no colours: {printed:?}");
        let (result, _) = run(&[&args[..], &["--detailed-exitcode"]].concat());
        assert_eq!(result.unwrap(), 2);
    }

    #[test]
    fn json_is_one_document_with_the_change() {
        let (old, new) = templates();
        let (result, printed) = run(&["diff", &old, &new, "--stack-name", "app", "--json"]);
        assert_eq!(result.unwrap(), EXIT_OK);
        let plan: serde_json::Value = serde_json::from_str(&printed).expect("one JSON document");
        let resource = &plan["accounts"][0]["resources"][0];
        assert_eq!(resource["logical_id"], "AlertsChannel");
        assert_eq!(resource["natural_key"], "app-alerts");
        assert_eq!(resource["action"], "update");
        assert_eq!(resource["changes"][0]["property"], "LoggingLevel");
        assert_eq!(resource["changes"][0]["before"], "ERROR");
        assert_eq!(resource["changes"][0]["after"], "INFO");
        assert_eq!(plan["summary"]["update"], 1);
    }

    #[test]
    fn a_template_that_cannot_be_read_is_an_error_naming_it() {
        let (old, _) = templates();
        let (result, printed) = run(&["diff", &old, "no-such-template.yaml"]);
        let message = format!("{:#}", result.unwrap_err());
        assert!(message.contains("no-such-template.yaml"), "{message}");
        assert!(printed.is_empty(), "{printed}");
    }
}
