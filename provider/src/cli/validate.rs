//! `chatops validate TEMPLATE`: every custom resource of the template checked
//! against its type's schema, offline.

use std::path::PathBuf;

use anyhow::Context;

use super::plan::{ParameterArgs, load_template};
use super::{EXIT_ERROR, EXIT_OK};
use crate::template::{Pseudo, validate};

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
    /// Runs the command.
    pub fn execute(self) -> anyhow::Result<u8> {
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
            println!(
                "{source}: {kind}: {}: {}",
                finding.location, finding.problem
            );
        }
        let errors = validation.findings.iter().filter(|f| f.is_error).count();
        let checked = validation.checked.len();
        let resources = if checked == 1 {
            "resource"
        } else {
            "resources"
        };
        if errors == 0 {
            println!("{source}: {checked} custom {resources} valid");
            Ok(EXIT_OK)
        } else {
            println!(
                "{source}: {errors} problem{} in {checked} custom {resources}",
                if errors == 1 { "" } else { "s" }
            );
            Ok(EXIT_ERROR)
        }
    }
}
