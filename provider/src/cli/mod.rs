//! The command line: one module per subcommand, each an `Args` struct with
//! one `execute` method that writes its output to the writer it is given
//! (standard output here, a buffer in tests); progress and warnings go to
//! standard error.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::accounts::Accounts;
use crate::config::ProviderConfig;

mod diff;
mod doctor;
mod import;
mod invoke;
mod plan;
mod schema;
mod validate;

/// Exit code: everything went as asked.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error.
pub const EXIT_ERROR: u8 = 1;

/// ChatOps Provider: AWS Chatbot and AWS Support App resources for CloudFormation, across an AWS Organization.
#[derive(Debug, Parser)]
#[command(name = "chatops", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Invoke(invoke::Invoke),
    Schema(schema::Schema),
    Plan(plan::Plan),
    Diff(diff::Diff),
    Import(import::Import),
    Validate(validate::Validate),
    Doctor(doctor::Doctor),
}

/// Parses the command line and runs the command.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let out: &mut dyn Write = &mut stdout;
    let result = match cli.command {
        Command::Invoke(args) => args.execute(out).await,
        Command::Schema(args) => args.execute(out),
        Command::Plan(args) => args.execute(out).await,
        Command::Diff(args) => args.execute(out),
        Command::Import(args) => args.execute(out).await,
        Command::Validate(args) => args.execute(out),
        Command::Doctor(args) => args.execute(out).await,
    }
    .and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The accounts reached as the environment configures it, as Lambda and `invoke` do.
pub async fn accounts_from_env() -> Arc<Accounts> {
    Arc::new(Accounts::from_env(ProviderConfig::from_env()).await)
}

/// The accounts reached as the environment configures it, but through
/// `role_name` without an ExternalId (the plan role, trusted by the caller itself).
pub async fn accounts_with_role(role_name: &str) -> Arc<Accounts> {
    let config = ProviderConfig {
        execution_role_name: role_name.to_owned(),
        external_id: None,
        ..ProviderConfig::from_env()
    };
    Arc::new(Accounts::from_env(config).await)
}

/// The accounts a command reads: those `listed` (comma-separated ids), else
/// every ACTIVE account of the organization, or of organizational unit `ou`.
pub(super) async fn account_ids(
    accounts: &Accounts,
    listed: Option<&str>,
    ou: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    if let Some(list) = listed {
        return Ok(crate::plan::targets::parse_account_ids(list)?);
    }
    let organizations = aws_sdk_organizations::Client::new(
        &accounts.sdk_config_for(crate::adaptive::Api::Organizations),
    );
    let active = crate::plan::targets::organization_accounts(&organizations, ou)
        .await
        .context("cannot list the organization's accounts")?;
    accounts.remember_active_accounts(active.clone()).await;
    Ok(active)
}

/// A progress bar on standard error over `count` accounts (`doing`, such as
/// "planning"), when standard error is a terminal.
pub(super) fn progress_bar(count: usize, doing: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(count as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{doing} {{pos}}/{{len}} accounts {{wide_bar}} {{elapsed}}"
    )) {
        bar.set_style(style);
    }
    Some(bar)
}

/// What the commands' tests share: a command line parsed as `chatops` parses
/// it, and files for the commands to read.
#[cfg(test)]
mod testing {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};

    use clap::Parser;

    use super::{Cli, Command};

    /// A template with one Slack channel, as the end-to-end tests use it.
    pub const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ServiceToken:
    Type: String
    Default: arn:aws:sns:us-east-1:123456789012:chatops-provider
Resources:
  AlertsChannel:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: !Sub "${AWS::StackName}-alerts"
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: C0ALERTS1
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
      LoggingLevel: ERROR
"#;

    /// `chatops ARGS...` as the command line reads it.
    pub fn parse(args: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("chatops").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("chatops {args:?}: {e}"))
            .command
    }

    /// Writes `text` to a file named `name` in a directory no other test uses.
    pub fn file(name: &str, text: &str) -> PathBuf {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "chatops-cli-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("writing a file");
        path
    }

    /// A loopback URL where nothing listens: a call there is refused at once.
    pub fn closed_port() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        format!("http://{address}")
    }

    /// What a command wrote, as text.
    pub fn text(out: Vec<u8>) -> String {
        String::from_utf8(out).expect("UTF-8 output")
    }
}
