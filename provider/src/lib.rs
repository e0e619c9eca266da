//! ChatOps Provider: a CloudFormation custom resource provider for AWS
//! Chatbot and the AWS Support App across an AWS Organization.
//!
//! The `chatops` binary runs this library as a Lambda function (behind an SNS
//! topic ServiceToken) and as a command line:
//!
//! ```text
//! chatops invoke --event examples/events/create-slack-channel.json --no-send
//! chatops schema Custom::ChatbotSlackChannel
//! ```
#![warn(missing_docs)]

pub mod accounts;
pub mod adaptive;
pub mod change;
pub mod cli;
pub mod config;
pub mod doctor;
pub mod endpoints;
pub mod error;
pub mod import;
pub mod logging;
pub mod ownership;
pub mod plan;
pub mod properties;
pub mod reading;
pub mod registry;
pub mod request;
pub mod resources;
pub mod schema;
pub mod template;
pub mod validate;

#[cfg(test)]
mod fuzz;

pub use error::{Error, Result};
