//! `chatops import`: lists, per account, the AWS Chatbot configurations and
//! AWS Support App workspaces, channels and aliases that exist and who owns
//! each, and writes a template that declares the unowned ones with
//! `Adopt: true` (see the README, "Bring what exists under management").

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::json;

use super::{EXIT_ERROR, EXIT_OK, accounts_from_env, accounts_with_role};
use crate::import::{self, AccountInventory, Found, Written};
use crate::plan::run::DEFAULT_CONCURRENCY;

/// List what already exists in each account and which stack owns it, and write a template that
/// adopts what no stack owns
///
/// Reads AWS Chatbot Slack, Chime and Microsoft Teams configurations and AWS Support App
/// workspaces, channels and aliases. The ones no stack owns (no chatops: ownership tags; the
/// Support App has no tags, so its owner is unknown) are declared with their live settings and
/// Adopt: true, so that deploying the template takes them over unchanged.
///
/// By default one template for a StackSet: values that hold the account id use
/// ${AWS::AccountId}, values that still differ between accounts become parameters with
/// per-account overrides (written to a JSON file beside the template), and resources found in
/// only some accounts get a condition. Secrets the services never return (a Chime webhook's URL
/// and description) become NoEcho parameters that you must fill in. Review the result with
/// `chatops plan TEMPLATE --accounts ... --parameter-overrides FILE`: it shows only adoptions.
#[derive(Debug, clap::Args)]
pub struct Import {
    #[command(flatten)]
    targets: ImportTargets,
    /// With --org: only the accounts under this organizational unit (or root), at any depth.
    #[arg(long, value_name = "OU_ID", requires = "org")]
    ou: Option<String>,
    /// The read-only role to assume in each account (PlanRoleName of
    /// cfn-templates/member-role.yaml), instead of the provider's execution role. No ExternalId
    /// is sent with it.
    #[arg(long, value_name = "NAME", env = "CHATOPS_PLAN_ROLE_NAME")]
    role_name: Option<String>,
    /// How many accounts are read at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Where to write the template (default chatops-import.yaml); with --per-account, the
    /// directory to write ACCOUNT.yaml and ACCOUNT.parameters.json into (default chatops-import).
    #[arg(long, short = 'o', value_name = "PATH")]
    output: Option<PathBuf>,
    /// Where to write the per-account parameter overrides (default: the template's path with
    /// .overrides.json): {"ACCOUNT": [{"ParameterKey": ..., "ParameterValue": ...}]}, each
    /// account's list as `aws cloudformation create-stack-instances --parameter-overrides` and
    /// `chatops plan --parameters` take it.
    #[arg(long, value_name = "FILE", conflicts_with = "per_account")]
    overrides: Option<PathBuf>,
    /// Write one template per account (ACCOUNT.yaml, with its live values written out) instead
    /// of one StackSet template.
    #[arg(long)]
    per_account: bool,
}

/// Which accounts are read: exactly one of these.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct ImportTargets {
    /// Read these accounts (comma-separated 12-digit ids).
    #[arg(long, value_name = "ID,...")]
    accounts: Option<String>,
    /// Read every ACTIVE account of the organization.
    #[arg(long)]
    org: bool,
}

impl Import {
    /// Runs the command, printing to `out`.
    pub async fn execute(self, out: &mut dyn Write) -> anyhow::Result<u8> {
        let accounts = match &self.role_name {
            Some(role_name) => accounts_with_role(role_name).await,
            None => accounts_from_env().await,
        };
        let account_ids = super::account_ids(
            &accounts,
            self.targets.accounts.as_deref(),
            self.ou.as_deref(),
        )
        .await?;
        if account_ids.is_empty() {
            bail!("no account to read (the organization unit has no ACTIVE account)");
        }
        let accounts_ref: &crate::accounts::Accounts = &accounts;
        let inventories: Vec<AccountInventory> = futures::stream::iter(account_ids)
            .map(|account| async move { import::inventory(accounts_ref, &account).await })
            .buffered(usize::from(self.concurrency))
            .collect()
            .await;
        let failed = inventories.iter().any(|a| a.outcome.is_err());
        let declared: Vec<&Found> = inventories
            .iter()
            .filter_map(|a| a.outcome.as_ref().ok())
            .flatten()
            .filter(|f| f.is_declared())
            .collect();
        let written = if self.per_account {
            self.write_per_account(&declared, out)?
        } else {
            self.write_one(&declared, out)?
        };
        out.write_all(import::render_inventory(&inventories, &written).as_bytes())?;
        Ok(if failed { EXIT_ERROR } else { EXIT_OK })
    }

    /// One template for every account, and its overrides file.
    fn write_one(&self, declared: &[&Found], out: &mut dyn Write) -> anyhow::Result<Written> {
        let written = import::write(declared).map_err(anyhow::Error::msg)?;
        if declared.is_empty() {
            writeln!(
                out,
                "Nothing to import: every configuration found is owned by a stack.\n"
            )?;
            return Ok(written);
        }
        let path = self
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from("chatops-import.yaml"));
        let overrides = self
            .overrides
            .clone()
            .unwrap_or_else(|| path.with_extension("overrides.json"));
        write_file(&path, &written.template)?;
        write_file(&overrides, &overrides_json(&written))?;
        writeln!(
            out,
            "Wrote {} (for a StackSet over {} account(s): {}) and its per-account parameter overrides {}.",
            path.display(),
            written.accounts().len(),
            written.accounts().join(", "),
            overrides.display()
        )?;
        say_secrets(out, &written, &overrides.display().to_string())?;
        writeln!(out)?;
        Ok(written)
    }

    /// A template per account, each with its parameters file.
    fn write_per_account(
        &self,
        declared: &[&Found],
        out: &mut dyn Write,
    ) -> anyhow::Result<Written> {
        let dir = self
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from("chatops-import"));
        let mut accounts: Vec<&str> = declared.iter().map(|f| f.account_id.as_str()).collect();
        accounts.dedup();
        let mut all = import::write(&[]).map_err(anyhow::Error::msg)?;
        if accounts.is_empty() {
            writeln!(
                out,
                "Nothing to import: every configuration found is owned by a stack.\n"
            )?;
            return Ok(all);
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot make directory {}", dir.display()))?;
        for account in accounts {
            let mine: Vec<&Found> = declared
                .iter()
                .copied()
                .filter(|f| f.account_id == account)
                .collect();
            let written = import::write(&mine).map_err(anyhow::Error::msg)?;
            let path = dir.join(format!("{account}.yaml"));
            let parameters = dir.join(format!("{account}.parameters.json"));
            write_file(&path, &written.template)?;
            let list = parameter_list(written.overrides.get(account));
            write_file(&parameters, &format!("{list:#}\n"))?;
            writeln!(
                out,
                "Wrote {} and its parameters {}.",
                path.display(),
                parameters.display()
            )?;
            say_secrets(out, &written, &parameters.display().to_string())?;
            all.declared.extend(written.declared);
        }
        writeln!(out)?;
        Ok(all)
    }
}

/// Says which NoEcho parameters must be filled in, and where.
fn say_secrets(out: &mut dyn Write, written: &Written, file: &str) -> std::io::Result<()> {
    for (parameter, accounts) in &written.secrets {
        writeln!(
            out,
            "FILL IN {parameter} for account(s) {}: the service never returns it, so it is an empty \
             NoEcho parameter in {file}; the deploy fails on it until it is given.",
            accounts.join(", ")
        )?;
    }
    Ok(())
}

/// The overrides as `{"ACCOUNT": [{"ParameterKey": ..., "ParameterValue": ...}]}`.
fn overrides_json(written: &Written) -> String {
    let map: serde_json::Map<String, serde_json::Value> = written
        .overrides
        .iter()
        .map(|(account, values)| (account.clone(), parameter_list(Some(values))))
        .collect();
    format!("{:#}\n", serde_json::Value::Object(map))
}

fn parameter_list(
    values: Option<&std::collections::BTreeMap<String, String>>,
) -> serde_json::Value {
    values
        .into_iter()
        .flatten()
        .map(|(key, value)| json!({"ParameterKey": key, "ParameterValue": value}))
        .collect()
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
