//! `chatops plan`: what a template or a StackSet would create, update,
//! replace or delete in each target account, with a diff of every changed
//! property and the drift of live resources, before anything is deployed.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::CallAs;
use futures::FutureExt;

use super::{EXIT_ERROR, EXIT_OK, accounts_from_env, accounts_with_role};
use crate::accounts::{Accounts, StackArn, Target};
use crate::plan::change_set::ChangeSetLocation;
use crate::plan::live::{AccountsLive, LiveSource};
use crate::plan::run::{self, DEFAULT_CONCURRENCY, Inputs, StackTarget};
use crate::plan::{self as planning, Plan as PlanResult, Summary, json, markdown, targets, text};
use crate::template::Template;

/// Show what a template or StackSet would do in each account: create (+), update in place (~),
/// replace (-/+), delete (-), and drift (!), with a diff of every changed property.
#[derive(Debug, clap::Args)]
pub struct Plan {
    /// The template (JSON or YAML). With --stack-set, defaults to the StackSet's current template.
    #[arg(conflicts_with = "change_set")]
    template: Option<PathBuf>,
    #[command(flatten)]
    targets: TargetArgs,
    #[command(flatten)]
    parameters: ParameterArgs,
    /// With --org: only the accounts under this organizational unit (or root), at any depth.
    #[arg(long, value_name = "OU_ID", requires = "org")]
    ou: Option<String>,
    /// With --stack-set: SELF, or DELEGATED_ADMIN when running in a delegated administrator
    /// account of a service-managed StackSet.
    #[arg(long, value_name = "AS", default_value = "SELF", value_parser = ["SELF", "DELEGATED_ADMIN"])]
    call_as: String,
    /// The stack's name in each account: the value of AWS::StackName, and which live resources
    /// belong to the stack (their chatops:stack-id tag names it), so that those gone from the
    /// template show as deleted. With --change-set NAME: the change set's stack (a name or StackId).
    #[arg(long, value_name = "NAME", conflicts_with = "stack_set")]
    stack_name: Option<String>,
    /// The template deployed now (JSON or YAML). Actions are then what CloudFormation will do
    /// (deployed → TEMPLATE), and live resources that differ from it show as drift. With
    /// --stack-set, the StackSet's current template is the deployed one.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["stack_set", "change_set"])]
    deployed: Option<PathBuf>,
    /// A parameter value of the deployed stack, KEY=VALUE (repeatable), where it differs from
    /// --parameter: the deployed template is resolved with --parameter values otherwise.
    #[arg(
        long = "deployed-parameter",
        value_name = "KEY=VALUE",
        requires = "deployed"
    )]
    deployed_parameter: Vec<String>,
    /// Per-account parameter values, as `chatops import` writes them: a JSON object of account
    /// id to parameters (either --parameters form); an account's values win over --parameter.
    #[arg(long, value_name = "FILE", conflicts_with = "stack_set")]
    parameter_overrides: Option<PathBuf>,
    /// The stacks' region (default: AWS_REGION). StackSet instances have their own.
    #[arg(long)]
    region: Option<String>,
    /// The read-only role to assume in each account (PlanRoleName of
    /// cfn-templates/member-role.yaml), instead of the provider's execution role:
    /// a reviewer or a pipeline plans with its own credentials, which that role
    /// trusts. No ExternalId is sent with it.
    #[arg(long, value_name = "NAME", env = "CHATOPS_PLAN_ROLE_NAME")]
    role_name: Option<String>,
    /// How many accounts are read at once, and the most calls in flight to each service (the
    /// calls to each start at 16 and adapt to its rate: more while they succeed, half as many
    /// when it throttles).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    #[command(flatten)]
    output: OutputArgs,
}

/// Which accounts a plan covers: exactly one of these.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct TargetArgs {
    /// Plan in these accounts (comma-separated 12-digit ids).
    #[arg(long, value_name = "ID,...")]
    accounts: Option<String>,
    /// Plan in every ACTIVE account of the organization.
    #[arg(long)]
    org: bool,
    /// Plan the instances of this StackSet, with its parameters and each instance's overrides
    /// (read through CloudFormation).
    #[arg(long, value_name = "NAME")]
    stack_set: Option<String>,
    /// Plan what executing this CloudFormation change set would do, against its stack as deployed
    /// and the live resources: its ARN, or its name with --stack-name (a name or StackId). Its
    /// template and parameters are read from CloudFormation, in the account and region of its ARN
    /// (or of the StackId; else the caller's account and --region).
    #[arg(long, value_name = "NAME|ARN")]
    change_set: Option<String>,
}

/// Template parameters, as `chatops plan`, `diff` and `validate` take them.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct ParameterArgs {
    /// A parameter value, KEY=VALUE (repeatable); wins over --parameters and the template's Default.
    #[arg(long = "parameter", short = 'p', value_name = "KEY=VALUE")]
    parameter: Vec<String>,
    /// A JSON file of parameter values: {"Key": "Value"} or the CloudFormation CLI form
    /// [{"ParameterKey": "Key", "ParameterValue": "Value"}].
    #[arg(long = "parameters", value_name = "FILE")]
    parameters_file: Option<PathBuf>,
}

impl ParameterArgs {
    /// The parameter values given, checked against what `template` declares.
    pub(super) fn values(&self, template: &Template) -> anyhow::Result<BTreeMap<String, String>> {
        let mut values = BTreeMap::new();
        if let Some(path) = &self.parameters_file {
            values.extend(read_parameter_file(path)?);
        }
        for pair in &self.parameter {
            let (key, value) = pair
                .split_once('=')
                .with_context(|| format!("--parameter {pair:?} is not KEY=VALUE"))?;
            values.insert(key.trim().to_owned(), value.to_owned());
        }
        let declared = template.section("Parameters");
        if let Some(stray) = values.keys().find(|k| !declared.contains_key(*k)) {
            let names: Vec<&String> = declared.keys().collect();
            bail!(
                "{}: a value is given for {stray}, which the template does not declare (it declares: {})",
                template.source,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
        }
        Ok(values)
    }
}

fn read_parameter_file(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    parameter_values(&read_json(path)?, path)
}

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read parameters file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// `{"ACCOUNT": parameters}` from `path`, each account's in either form of `--parameters`.
fn read_account_overrides(
    path: &Path,
) -> anyhow::Result<BTreeMap<String, BTreeMap<String, String>>> {
    let serde_json::Value::Object(accounts) = read_json(path)? else {
        bail!(
            "{}: parameter overrides are {{\"ACCOUNT\": [{{\"ParameterKey\": ..., \"ParameterValue\": ...}}]}}",
            path.display()
        );
    };
    accounts
        .iter()
        .map(|(account, values)| Ok((account.clone(), parameter_values(values, path)?)))
        .collect()
}

fn parameter_values(
    value: &serde_json::Value,
    path: &Path,
) -> anyhow::Result<BTreeMap<String, String>> {
    let text_of = |v: &serde_json::Value| crate::template::parameters::scalar_text(v);
    let mut values = BTreeMap::new();
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let v = text_of(v).with_context(|| {
                    format!("{}: the value of {key} is not a string", path.display())
                })?;
                values.insert(key.clone(), v);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let key = item.get("ParameterKey").and_then(serde_json::Value::as_str);
                let v = item.get("ParameterValue").and_then(text_of);
                match (key, v) {
                    (Some(key), Some(v)) => {
                        values.insert(key.to_owned(), v);
                    }
                    _ => bail!(
                        "{}: item {index} has no ParameterKey and ParameterValue strings",
                        path.display()
                    ),
                }
            }
        }
        _ => bail!(
            "{}: parameters are {{\"Key\": \"Value\"}} or [{{\"ParameterKey\": ..., \"ParameterValue\": ...}}]",
            path.display()
        ),
    }
    Ok(values)
}

/// How a plan is printed and what the exit code says.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct OutputArgs {
    /// How the plan is printed: text (for people), json (the shape is documented in
    /// docs/plan.md) or markdown (a pull request comment: a summary table, then one
    /// collapsible section per account, cut to fit a GitHub comment).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "markdown"])]
    format: String,
    /// The same as --format json.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Exit 0 when nothing changes, 2 when something changes or drifted, 1 on an error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// No colours, even on a terminal (NO_COLOR does the same).
    #[arg(long)]
    no_color: bool,
}

impl OutputArgs {
    /// The format asked for: `json`, `markdown` or `text`.
    fn format(&self) -> &str {
        if self.json { "json" } else { &self.format }
    }

    /// How text is rendered: colours are for a terminal (`out` is standard
    /// output, or a buffer in tests).
    fn text_options(&self) -> text::TextOptions {
        text::TextOptions {
            color: !self.no_color
                && text::color_wanted(
                    std::io::stdout().is_terminal(),
                    std::env::var_os("NO_COLOR"),
                ),
        }
    }

    /// Prints `plan` to `out` and gives the exit code.
    pub(super) fn finish(&self, plan: &PlanResult, out: &mut dyn Write) -> anyhow::Result<u8> {
        match self.format() {
            "json" => writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&json::render(plan))?
            )?,
            "markdown" => write!(out, "{}", markdown::render(plan, Default::default()))?,
            _ => write!(out, "{}", text::render(plan, self.text_options()))?,
        }
        Ok(self.exit_code(&Summary::of_plan(plan)))
    }

    /// The exit code of a plan with `summary`.
    fn exit_code(&self, summary: &Summary) -> u8 {
        if self.detailed_exitcode {
            planning::detailed_exit_code(summary)
        } else if summary.has_errors() {
            EXIT_ERROR
        } else {
            EXIT_OK
        }
    }
}

/// Reads a template file, with its path in any error.
pub(super) fn load_template(path: &Path) -> anyhow::Result<Template> {
    Template::load(path).with_context(|| format!("in template {}", path.display()))
}

impl Plan {
    /// Runs the command, printing the plan to `out`.
    pub async fn execute(self, out: &mut dyn Write) -> anyhow::Result<u8> {
        let accounts = match &self.role_name {
            Some(role_name) => accounts_with_role(role_name).await,
            None => accounts_from_env().await,
        };
        let accounts: &Accounts = &accounts;
        self.plan_with(
            accounts,
            || AccountsLive::new(accounts, "chatops-plan"),
            out,
        )
        .await
    }

    /// Plans through `accounts`, reading live resources from what `live`
    /// makes (the accounts themselves, or in tests a fixed list).
    async fn plan_with<'a, S, L>(
        self,
        accounts: &'a Accounts,
        live: L,
        out: &mut dyn Write,
    ) -> anyhow::Result<u8>
    where
        S: LiveSource + 'a,
        L: Fn() -> S + Send + Sync + 'a,
    {
        // What the command line alone can refuse, before any call.
        let change_set_location = match &self.targets.change_set {
            Some(name) => {
                if !self.parameters.parameter.is_empty()
                    || self.parameters.parameters_file.is_some()
                {
                    bail!(
                        "--parameter and --parameters do not apply to --change-set: it is planned with \
                         the change set's own parameters (make another change set to plan other values)"
                    );
                }
                Some(ChangeSetLocation::new(name, self.stack_name.as_deref())?)
            }
            None => None,
        };
        let region = self.region.clone().unwrap_or_else(|| accounts.region());
        let mut inputs;
        let mut stack = self.stack_name.clone();
        let mut targets_list = Vec::new();
        let mut stack_set_info = None;
        let call_as = if self.call_as == "DELEGATED_ADMIN" {
            CallAs::DelegatedAdmin
        } else {
            CallAs::SelfValue
        };
        let mut change_set = None;
        if let (Some(name), Some(location)) = (&self.targets.change_set, &change_set_location) {
            let target = change_set_target(accounts, location, self.region.as_deref()).await?;
            let cloudformation = accounts
                .cloudformation_in(&target, "chatops-plan")
                .await
                .with_context(|| {
                    format!(
                        "cannot reach CloudFormation in account {} {}",
                        target.account_id, target.region
                    )
                })?;
            let read = planning::change_set::read(&cloudformation, location)
                .await
                .with_context(|| format!("cannot read change set {name}"))?;
            targets_list.push(StackTarget {
                account_id: target.account_id,
                region: target.region,
                stack_name: Some(read.reference.stack_name.clone()),
                stack_id: Some(read.reference.stack_id.clone()),
                parameters: read.parameters,
                deployed_parameters: read.deployed_parameters,
            });
            inputs = Inputs::new(read.template, read.deployed);
            inputs.unknown_parameters = read.hidden_parameters;
            stack = Some(read.reference.stack_name.clone());
            change_set = Some(read.reference);
        } else if let Some(name) = &self.targets.stack_set {
            let cloudformation = aws_sdk_cloudformation::Client::new(
                &accounts.sdk_config_for(crate::adaptive::Api::CloudFormation),
            );
            let stack_set = targets::describe_stack_set(&cloudformation, name, call_as.clone())
                .await
                .with_context(|| format!("cannot read StackSet {name}"))?;
            let template = match &self.template {
                Some(path) => load_template(path)?,
                None => stack_set.template.clone(),
            };
            let cli = self.parameters.values(&template)?;
            for instance in &stack_set.instances {
                let stack_name = instance
                    .stack_id
                    .as_deref()
                    .and_then(|id| StackArn::parse(id).ok())
                    .map(|arn| arn.name);
                let mut parameters = stack_set.parameters.clone();
                parameters.extend(cli.clone());
                targets_list.push(StackTarget {
                    account_id: instance.account_id.clone(),
                    region: instance.region.clone(),
                    stack_name,
                    stack_id: instance.stack_id.clone(),
                    parameters,
                    deployed_parameters: stack_set.parameters.clone(),
                });
            }
            inputs = Inputs::new(template, Some(stack_set.template.clone()));
            stack = Some(format!("StackSet {name}"));
            stack_set_info = Some((cloudformation, stack_set));
        } else {
            let Some(path) = &self.template else {
                bail!("give the TEMPLATE to plan (only --stack-set can do without one)");
            };
            let template = load_template(path)?;
            let deployed = self.deployed.as_deref().map(load_template).transpose()?;
            let parameters = self.parameters.values(&template)?;
            let mut deployed_parameters = parameters.clone();
            if let Some(deployed) = &deployed {
                let given = ParameterArgs {
                    parameter: self.deployed_parameter.clone(),
                    parameters_file: None,
                };
                deployed_parameters.extend(given.values(deployed)?);
            }
            let account_ids = super::account_ids(
                accounts,
                self.targets.accounts.as_deref(),
                self.ou.as_deref(),
            )
            .await?;
            let overrides = match &self.parameter_overrides {
                Some(path) => read_account_overrides(path)?,
                None => BTreeMap::new(),
            };
            let declared = template.section("Parameters");
            for (account, values) in &overrides {
                if let Some(stray) = values.keys().find(|k| !declared.contains_key(*k)) {
                    bail!(
                        "{}: account {account} gives a value for {stray}, which {} does not declare",
                        self.parameter_overrides
                            .as_deref()
                            .unwrap_or(Path::new(""))
                            .display(),
                        template.source
                    );
                }
            }
            for account_id in account_ids {
                let mut parameters = parameters.clone();
                parameters.extend(overrides.get(&account_id).cloned().unwrap_or_default());
                targets_list.push(StackTarget {
                    account_id,
                    region: region.clone(),
                    stack_name: self.stack_name.clone(),
                    stack_id: None,
                    parameters,
                    deployed_parameters: deployed_parameters.clone(),
                });
            }
            inputs = Inputs::new(template, deployed);
        }
        // What a transform or macro may change is not in the plan: say so,
        // on stderr so that --json output stays one document.
        for (location, warning) in inputs.template.warnings() {
            eprintln!("{}: warning: {location}: {warning}", inputs.template.source);
        }
        // A GetAtt of an attribute the type lacks fails the deploy wherever it is.
        let wrong_attributes = crate::validate::attribute_findings(&inputs.template);
        if let Some(first) = wrong_attributes.first() {
            bail!(
                "in template {}: {}: {}",
                inputs.template.source,
                first.location,
                first.problem
            );
        }
        inputs.concurrency = usize::from(self.concurrency);
        if targets_list.is_empty() {
            bail!(
                "no account to plan in (the StackSet has no instances, or the organization unit no ACTIVE account)"
            );
        }
        // A template that cannot be resolved fails the same way everywhere: say it once.
        run::resolve_stack(&inputs, &targets_list[0])
            .with_context(|| format!("in template {}", inputs.template.source))?;

        let progress = super::progress_bar(targets_list.len(), "planning");
        let accounts_ref: &Accounts = accounts;
        let (stack_set_complete, stack_complete);
        let complete: Option<run::Complete<'_>> = match &stack_set_info {
            Some((cloudformation, stack_set)) => {
                let cli = self.parameters.values(&inputs.template)?;
                let call_as = call_as.clone();
                stack_set_complete = move |mut target: StackTarget| {
                    let cli = cli.clone();
                    let call_as = call_as.clone();
                    async move {
                        let instance = targets::StackInstance {
                            account_id: target.account_id.clone(),
                            region: target.region.clone(),
                            stack_id: target.stack_id.clone(),
                        };
                        let overrides = targets::instance_overrides(
                            cloudformation,
                            &stack_set.name,
                            &instance,
                            call_as,
                        )
                        .await?;
                        // StackSet values < values given here < the instance's overrides.
                        let mut parameters = stack_set.parameters.clone();
                        parameters.extend(cli);
                        parameters.extend(overrides.clone());
                        target.parameters = parameters;
                        target.deployed_parameters.extend(overrides);
                        Ok(target)
                    }
                    .boxed()
                };
                Some(&stack_set_complete)
            }
            // The stack's StackId tells which live resources are its own, as
            // the deploy tells them (by StackId, never by name).
            // A change set's StackId was read with it.
            None => match (&self.stack_name, &change_set) {
                (Some(stack_name), None) => {
                    stack_complete = move |mut target: StackTarget| {
                        async move {
                            let stack_region = crate::accounts::Target {
                                account_id: target.account_id.clone(),
                                region: target.region.clone(),
                                partition: crate::template::partition_of(&target.region).to_owned(),
                            };
                            let cloudformation = accounts_ref
                                .cloudformation_in(&stack_region, "chatops-plan")
                                .await?;
                            target.stack_id =
                                targets::stack_id_of(&cloudformation, stack_name).await?;
                            Ok(target)
                        }
                        .boxed()
                    };
                    Some(&stack_complete)
                }
                _ => None,
            },
        };
        let mut plan = run::assemble(&inputs, stack, Vec::new());
        plan.change_set = change_set;
        if self.output.format() != "text" {
            // JSON and Markdown are one document each (Markdown opens with the totals).
            plan.accounts = run::plan_all(
                accounts_ref,
                &inputs,
                targets_list,
                complete,
                live,
                progress.as_ref(),
            )
            .await;
            if let Some(bar) = &progress {
                bar.finish_and_clear();
            }
            return self.output.finish(&plan, out);
        }
        // Text is written as each account is planned, in account order, so
        // that a plan of the whole organization holds few plans at a time.
        targets_list.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
        let options = self.output.text_options();
        write!(out, "{}", text::header(&plan, options))?;
        let mut total = Summary::default();
        let mut written = Ok(());
        run::plan_each(
            accounts_ref,
            &inputs,
            targets_list,
            complete,
            live,
            progress.as_ref(),
            |account| {
                total = total.plus(&Summary::of_account(&account));
                if written.is_ok() {
                    let section = text::account(&account, options);
                    // The bar steps aside while a section is written under it.
                    written = match &progress {
                        Some(bar) => bar.suspend(|| write!(out, "{section}")),
                        None => write!(out, "{section}"),
                    };
                }
            },
        )
        .await;
        if let Some(bar) = &progress {
            bar.finish_and_clear();
        }
        written?;
        write!(out, "{}", text::footer(&total, options))?;
        Ok(self.output.exit_code(&total))
    }
}

/// The account and region of a change set: those of its ARN (or its stack's
/// StackId), else the caller's own account and `region`.
async fn change_set_target(
    accounts: &crate::accounts::Accounts,
    location: &ChangeSetLocation,
    region: Option<&str>,
) -> anyhow::Result<Target> {
    let region = location
        .region
        .clone()
        .or(region.map(str::to_owned))
        .unwrap_or_else(|| accounts.region());
    let account_id = match &location.account_id {
        Some(account_id) => account_id.clone(),
        None => aws_sdk_sts::Client::new(accounts.sdk_config())
            .get_caller_identity()
            .send()
            .await
            .context("cannot tell which account the change set is in (STS GetCallerIdentity); give its ARN")?
            .account()
            .context("STS GetCallerIdentity answered no account")?
            .to_owned(),
    };
    Ok(Target {
        partition: location
            .partition
            .clone()
            .unwrap_or_else(|| crate::template::partition_of(&region).to_owned()),
        account_id,
        region,
    })
}

#[cfg(test)]
mod tests {
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use serde_json::json;

    use super::*;
    use crate::cli::Command;
    use crate::cli::testing::{file, parse, text};
    use crate::config::ProviderConfig;
    use crate::plan::live::FixedLive;
    use crate::properties::Tag;
    use crate::resources::LiveResource;

    const TEMPLATE: &str = r#"
Parameters:
  ServiceToken:
    Type: String
    Default: arn:aws:sns:us-east-1:123456789012:chatops-provider
Resources:
  AlertsChannel:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: !Sub "alerts-${AWS::AccountId}"
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: C0ALERTS1
      IamRoleArn: !Sub "arn:aws:iam::${AWS::AccountId}:role/chatops-alerts"
      LoggingLevel: ERROR
"#;

    /// What account 100000000001 holds: the channel, at another logging level.
    fn live_channel() -> LiveResource {
        let account = "100000000001";
        LiveResource {
            physical_id: format!(
                "arn:aws:chatbot::{account}:chat-configuration/slack-channel/alerts-{account}"
            ),
            natural_key: format!("alerts-{account}"),
            properties: json!({
                "ConfigurationName": format!("alerts-{account}"),
                "SlackWorkspaceId": "T0CHATOPS1",
                "SlackChannelId": "C0ALERTS1",
                "IamRoleArn": format!("arn:aws:iam::{account}:role/chatops-alerts"),
                "LoggingLevel": "INFO",
                "GuardrailPolicies": ["arn:aws:iam::aws:policy/AdministratorAccess"],
                "UserRoleRequired": false,
                "AccountId": account,
                "Region": "us-east-2",
            }),
            tags: Vec::<Tag>::new(),
        }
    }

    /// `chatops plan ARGS...` with live resources from `live`, reaching no account.
    async fn run(args: &[&str], live: FixedLive) -> (anyhow::Result<u8>, String) {
        let Command::Plan(plan) = parse(args) else {
            panic!("not the plan command")
        };
        let sdk = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            // Loopback, should a call slip through; none is made.
            .endpoint_url(crate::cli::testing::closed_port())
            .behavior_version(BehaviorVersion::latest())
            .build();
        let accounts = Accounts::new(ProviderConfig::from_lookup(|_| None), sdk);
        let mut out = Vec::new();
        let result = plan.plan_with(&accounts, || live.clone(), &mut out).await;
        (result, text(out))
    }

    #[tokio::test]
    async fn each_account_is_planned_against_what_it_holds() {
        let path = file("stack.yaml", TEMPLATE);
        let live = FixedLive::new()
            .with(
                "100000000001",
                "Custom::ChatbotSlackChannel",
                live_channel(),
            )
            .refusing("100000000003", "not allowed to read this account");
        let args = [
            "plan",
            path.to_str().expect("UTF-8"),
            "--accounts",
            "100000000001,100000000002,100000000003",
            "--region",
            "us-east-1",
            "--no-color",
        ];
        let (result, printed) = run(&args, live.clone()).await;
        assert_eq!(result.unwrap(), EXIT_ERROR, "an account failed: {printed}");
        for expected in [
            "Account 100000000001 us-east-1",
            "  ~ AlertsChannel",
            "          -\"INFO\"",
            "          +\"ERROR\"",
            "Account 100000000002 us-east-1",
            "  + AlertsChannel",
            "      + ConfigurationName = \"alerts-100000000002\"",
            "Account 100000000003 us-east-1",
            "  error: access denied: not allowed to read this account",
            "Total over 3 accounts: 1 to create, 1 to update in place, 0 to replace, 0 to delete; \
             0 drifted; 0 unchanged; 2 with changes, 1 failed.",
        ] {
            assert!(
                printed.lines().any(|line| line == expected),
                "{expected:?} in:\n{printed}"
            );
        }
        assert!(!printed.contains('\u{1b}'), "no colours: {printed:?}");

        let (result, printed) = run(
            &[&args[..], &["--json", "--detailed-exitcode"]].concat(),
            live,
        )
        .await;
        assert_eq!(result.unwrap(), EXIT_ERROR, "{printed}");
        let plan: serde_json::Value = serde_json::from_str(&printed).expect("one JSON document");
        let actions: Vec<(&str, &str)> = plan["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .map(|a| {
                (
                    a["account_id"].as_str().unwrap_or_default(),
                    a["resources"][0]["action"]
                        .as_str()
                        .or(a["error"].as_str())
                        .unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            actions,
            [
                ("100000000001", "update"),
                ("100000000002", "create"),
                (
                    "100000000003",
                    "access denied: not allowed to read this account"
                ),
            ]
        );
    }

    #[tokio::test]
    async fn nothing_to_change_exits_0_with_detailed_exitcode() {
        let path = file(
            "stack.yaml",
            &TEMPLATE.replace("LoggingLevel: ERROR", "LoggingLevel: INFO"),
        );
        let live = FixedLive::new().with(
            "100000000001",
            "Custom::ChatbotSlackChannel",
            live_channel(),
        );
        let args = [
            "plan",
            path.to_str().expect("UTF-8"),
            "--accounts",
            "100000000001",
            "--region",
            "us-east-1",
            "--no-color",
        ];
        let (result, printed) = run(
            &[&args[..], &["--detailed-exitcode"]].concat(),
            live.clone(),
        )
        .await;
        assert_eq!(result.unwrap(), 0, "{printed}");
        assert!(printed.contains("No changes"), "{printed}");
        let (result, _) = run(&args, live).await;
        assert_eq!(result.unwrap(), EXIT_OK);
    }

    /// Text is written account by account as each is planned: in account
    /// order whatever order they finish in, with the totals last.
    #[tokio::test]
    async fn text_is_written_in_account_order_with_the_totals_last() {
        let path = file("stack.yaml", TEMPLATE);
        let live = FixedLive::new().refusing("100000000002", "not allowed to read this account");
        let args = [
            "plan",
            path.to_str().expect("UTF-8"),
            "--accounts",
            "100000000003,100000000001,100000000002",
            "--region",
            "us-east-1",
            "--no-color",
        ];
        let (result, printed) = run(&args, live).await;
        assert_eq!(result.unwrap(), EXIT_ERROR, "{printed}");
        let at = |text: &str| {
            printed
                .find(text)
                .unwrap_or_else(|| panic!("{text:?} in:\n{printed}"))
        };
        assert!(at("Plan of ") < at("Account 100000000001 us-east-1"));
        assert!(at("Account 100000000001 us-east-1") < at("Account 100000000002 us-east-1"));
        assert!(at("Account 100000000002 us-east-1") < at("Account 100000000003 us-east-1"));
        let last = printed.lines().last().unwrap_or_default();
        assert_eq!(
            last,
            "Total over 3 accounts: 2 to create, 0 to update in place, 0 to replace, 0 to delete; \
             0 drifted; 0 unchanged; 2 with changes, 1 failed."
        );
    }
}
