//! `chatops invoke`: runs one event exactly as the Lambda function would and
//! prints each response body.

use std::path::PathBuf;

use anyhow::Context;

use super::{EXIT_ERROR, EXIT_OK, provider_from_env};
use crate::request::handler;
use crate::request::response_url::{self, ResponseUrls};

/// Run one CloudFormation event (direct or SNS-wrapped) as Lambda would, and print the response JSON.
#[derive(Debug, clap::Args)]
pub struct Invoke {
    /// The event file (JSON).
    #[arg(long)]
    event: PathBuf,
    /// Print the response without PUTting it to the ResponseURL.
    #[arg(long)]
    no_send: bool,
}

impl Invoke {
    /// Runs the command.
    pub async fn execute(self) -> anyhow::Result<u8> {
        let text = std::fs::read_to_string(&self.event)
            .with_context(|| format!("cannot read event file {}", self.event.display()))?;
        let event: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", self.event.display()))?;
        let accounts = provider_from_env().await;
        // With --no-send nothing is PUT, so any ResponseURL (or none) will do;
        // a response that is sent goes only where the Lambda would send it.
        let urls = if self.no_send {
            ResponseUrls::NotSent
        } else {
            ResponseUrls::checked(accounts.config().local_response_origin.clone())
        };
        let handled = handler::answer_event(accounts, event, None, &urls).await;
        for answer in &handled.answers {
            println!("{}", String::from_utf8_lossy(&answer.body()));
        }
        if !handled.unanswered.is_empty() {
            anyhow::bail!(
                "{}: {}",
                self.event.display(),
                handled.unanswered.join("; ")
            );
        }
        if handled.answers.is_empty() {
            anyhow::bail!("{} holds no request", self.event.display());
        }
        if self.no_send {
            return Ok(EXIT_OK);
        }
        let failures = handler::send_answers(&response_url::client()?, &handled.answers).await;
        Ok(if failures.is_empty() {
            EXIT_OK
        } else {
            EXIT_ERROR
        })
    }
}
