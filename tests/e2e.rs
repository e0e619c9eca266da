//! End-to-end tests: the real `chatops` binary in Lambda mode under a local
//! Lambda Runtime API, against the local cloud, answering on pre-signed
//! ResponseURLs in its S3.

mod support;

mod change_sets;
mod channel_guardrails;
mod chatbot_chime_webhook;
mod chatbot_slack_channel;
mod chatbot_teams_channel;
mod contract;
mod doctor;
mod faults;
mod import;
mod lifecycle;
mod organization;
mod plan;
mod provenance;
mod secrets;
mod stacks;
mod supportapp_slack_channel;
mod supportapp_slack_workspace;
mod untrusted_input;
mod wire;
