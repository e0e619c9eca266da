//! Helpers of the AWS Support App tests. Workspaces and channels are
//! per-account state with quotas, and a workspace delete undoes what other
//! tests in the account rely on: each test gets a local cloud of its own.

use std::time::Duration;

use serde_json::Value;

use super::{LocalCloud, LocalLambda, direct, send_via};

/// A private local cloud and the provider function running against it.
pub struct SupportCloud {
    /// The cloud.
    pub cloud: LocalCloud,
    /// The `chatops` binary in Lambda mode, as the management account.
    pub lambda: LocalLambda,
}

impl SupportCloud {
    /// Starts a cloud with the default seed and a provider function for it.
    pub fn start() -> SupportCloud {
        let cloud = LocalCloud::start(None);
        let lambda = LocalLambda::start(&cloud.provider_env());
        SupportCloud { cloud, lambda }
    }

    /// The management account's id.
    pub fn management(&self) -> String {
        self.cloud.seed["management_account"]
            .as_str()
            .expect("management_account")
            .to_owned()
    }

    /// The `n`th member account.
    pub fn member(&self, n: usize) -> String {
        self.cloud.members()[n].clone()
    }

    /// Sends `request` directly to the function; the response CloudFormation gets.
    pub async fn send(&mut self, mut request: Value) -> Value {
        send_via(
            &self.cloud,
            &mut self.lambda,
            &mut request,
            direct,
            Duration::from_secs(60),
        )
        .await
    }

    /// A Support App client acting in `account`.
    pub async fn client(&self, account: &str) -> aws_sdk_supportapp::Client {
        aws_sdk_supportapp::Client::new(&self.cloud.sdk_config_for(account).await)
    }

    /// The team ids of the Slack workspaces of `account`.
    pub async fn workspaces(&self, account: &str) -> Vec<String> {
        let pages: Vec<_> = self
            .client(account)
            .await
            .list_slack_workspace_configurations()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .expect("listing workspaces");
        pages
            .iter()
            .flat_map(|p| p.slack_workspace_configurations())
            .map(|w| w.team_id().to_owned())
            .collect()
    }

    /// The Slack channel configurations of `account`.
    pub async fn channels(
        &self,
        account: &str,
    ) -> Vec<aws_sdk_supportapp::types::SlackChannelConfiguration> {
        let pages: Vec<_> = self
            .client(account)
            .await
            .list_slack_channel_configurations()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .expect("listing channels");
        pages
            .iter()
            .flat_map(|p| p.slack_channel_configurations())
            .cloned()
            .collect()
    }
}
