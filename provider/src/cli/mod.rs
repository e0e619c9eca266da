//! The command line: one module per subcommand, each an `Args` struct with
//! one `execute` method.

use std::process::ExitCode;
use std::sync::Arc;

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
    let result = match cli.command {
        Command::Invoke(args) => args.execute().await,
        Command::Schema(args) => args.execute(),
        Command::Plan(args) => args.execute().await,
        Command::Diff(args) => args.execute(),
        Command::Import(args) => args.execute().await,
        Command::Validate(args) => args.execute(),
        Command::Doctor(args) => args.execute().await,
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The provider configured from the environment, as Lambda and `invoke` use it.
pub async fn provider_from_env() -> Arc<Accounts> {
    Arc::new(Accounts::from_env(ProviderConfig::from_env()).await)
}

/// The provider configured from the environment, reaching each account through
/// `role_name` without an ExternalId (the plan role, trusted by the caller itself).
pub async fn provider_with_role(role_name: &str) -> Arc<Accounts> {
    let config = ProviderConfig {
        execution_role_name: role_name.to_owned(),
        external_id: None,
        ..ProviderConfig::from_env()
    };
    Arc::new(Accounts::from_env(config).await)
}
