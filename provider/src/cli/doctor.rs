//! `chatops doctor`: before the first deploy, whether a template can deploy
//! in each account, and the steps left to do, grouped by who must do them.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};

use super::accounts_with_role;
use super::plan::{ParameterArgs, load_template};
use crate::doctor::{self as checks, Needs, json, markdown, text};

/// Check, account by account, what a first deploy needs and what is left to do.
///
/// Through the plan role (--role-name) in each account it checks: the roles of
/// member-role.yaml (the plan role assumed, the execution role present and
/// trusting the provider); AWS Chatbot's authorized Slack workspaces and
/// Microsoft Teams teams; the AWS Support App's workspaces (authorized by the
/// management account for the organization, added to the account) and its
/// quotas (5 workspaces, 20 channels per account); and, with a TEMPLATE, the
/// channel roles and SNS topics it names (present, trusting the right
/// service, passable by the execution role, capped by guardrails, raw message
/// delivery off). Each blocked check comes with its step: the console page
/// and procedure for the one-time steps no API can do, the command or
/// template change for the rest.
///
/// Exit codes: 0 ready everywhere, 2 something blocks the template, 1 an error.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    chatops doctor stack.yaml --org -p Team=T0123ABCD\n  \
    chatops doctor stack.yaml --accounts 111111111111,222222222222 --format markdown > readiness.md\n  \
    chatops doctor --org --ou ou-ab12-cdef3456 --json")]
pub struct Doctor {
    /// The template to check each account against (JSON or YAML). Without it, the doctor
    /// reports what each account has (roles, workspaces, teams, quotas).
    template: Option<PathBuf>,
    #[command(flatten)]
    targets: TargetArgs,
    /// With --org: only the accounts under this organizational unit (or root), at any depth.
    #[arg(long, value_name = "OU_ID", requires = "org")]
    ou: Option<String>,
    #[command(flatten)]
    parameters: ParameterArgs,
    /// The stacks' region (the value of AWS::Region; default: AWS_REGION).
    #[arg(long)]
    region: Option<String>,
    /// The read-only role to assume in each account (PlanRoleName of
    /// cfn-templates/member-role.yaml, trusting the caller as PlanPrincipalArn).
    #[arg(long, value_name = "NAME", env = "CHATOPS_PLAN_ROLE_NAME")]
    role_name: String,
    /// The provider's execution role in each account (RoleName of member-role.yaml).
    #[arg(
        long,
        value_name = "NAME",
        env = "CHATOPS_EXECUTION_ROLE_NAME",
        default_value = "ChatOpsExecutionRole"
    )]
    execution_role_name: String,
    /// The provider's role (output ProviderRoleArn of provider.yaml): each execution role
    /// must trust it. Without it, a trust of any role with an ExternalId passes.
    #[arg(long, value_name = "ARN")]
    provider_role_arn: Option<String>,
    /// How many accounts are checked at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Print the report as JSON (same as --format json).
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// How the report is printed.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "markdown"])]
    format: String,
}

/// Which accounts are checked: exactly one of these.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct TargetArgs {
    /// Check these accounts (comma-separated 12-digit ids).
    #[arg(long, value_name = "ID,...")]
    accounts: Option<String>,
    /// Check every ACTIVE account of the organization.
    #[arg(long)]
    org: bool,
}

impl Doctor {
    /// Runs the command, printing the report to `out`.
    pub async fn execute(self, out: &mut dyn Write) -> anyhow::Result<u8> {
        let accounts = accounts_with_role(&self.role_name).await;
        let region = self.region.clone().unwrap_or_else(|| accounts.region());
        let template = self.template.as_deref().map(load_template).transpose()?;
        let parameters = match &template {
            Some(template) => self.parameters.values(template)?,
            None => Default::default(),
        };
        let account_ids = super::account_ids(
            &accounts,
            self.targets.accounts.as_deref(),
            self.ou.as_deref(),
        )
        .await?;
        if account_ids.is_empty() {
            bail!("no account to check (the organizational unit has no ACTIVE account)");
        }
        // A template that cannot be resolved fails the same way everywhere: say it once.
        if let Some(template) = &template {
            Needs::of(template, &parameters, &account_ids[0], &region)
                .with_context(|| format!("in template {}", template.source))?;
        }
        let (parameters, stack_region) = (&parameters, &region);
        let needs_of = template.as_ref().map(|template| {
            move |account_id: &str| Needs::of(template, parameters, account_id, stack_region)
        });
        let doctor = checks::Doctor {
            accounts: &accounts,
            plan_role_name: self.role_name.clone(),
            execution_role_name: self.execution_role_name.clone(),
            provider_role_arn: self.provider_role_arn.clone(),
            region: region.clone(),
            needs: needs_of.as_ref().map(|f| f as checks::NeedsOf<'_>),
            concurrency: usize::from(self.concurrency),
        };
        // Organization scans only: a list of accounts is quick.
        let bar = if self.targets.org {
            super::progress_bar(account_ids.len(), "checking")
        } else {
            None
        };
        let tick = || {
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        };
        let mut report = doctor
            .run(&account_ids, &tick)
            .await
            .context("cannot read the organization")?;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        report.template = self.template.as_ref().map(|p| p.display().to_string());
        let format = if self.json {
            "json"
        } else {
            self.format.as_str()
        };
        let rendered = match format {
            "json" => serde_json::to_string_pretty(&json::render(&report))? + "\n",
            "markdown" => markdown::render(&report),
            _ => text::render(&report),
        };
        // A closed pipe (`| head`) is an error to report, not a panic.
        out.write_all(rendered.as_bytes())
            .context("cannot write the report to standard output")?;
        Ok(report.exit_code())
    }
}
