//! `chatops diff OLD NEW`: what deploying NEW over OLD would do, from the two
//! templates alone, with no cloud at all; the same output as `chatops plan`.

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
    /// Runs the command.
    pub fn execute(self) -> anyhow::Result<u8> {
        crate::plan::targets::parse_account_ids(&self.account_id)?;
        let old = load_template(&self.old)?;
        let new = load_template(&self.new)?;
        let parameters = self.parameters.values(&new)?;
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
        self.output.finish(&plan)
    }
}
