//! The service clients of one target account, on its assumed-role credentials.

use aws_config::{Region, SdkConfig};

use crate::error::{Error, Result};

use super::credentials::{ExpiredTokenClassifier, RenewableCredentials, on_renewable_credentials};
use super::{Accounts, Target, paced};
use crate::adaptive::{Api, Pace};

/// The service clients of one target account, built on assumed-role credentials.
#[derive(Clone, Debug)]
pub struct AccountContext {
    /// The account these clients act in.
    pub target: Target,
    pub(super) config: SdkConfig,
    /// AWS Chatbot.
    pub chatbot: aws_sdk_chatbot::Client,
    /// AWS Support App.
    pub supportapp: aws_sdk_supportapp::Client,
    /// IAM, to check channel roles.
    pub iam: aws_sdk_iam::Client,
    /// The provider that made these clients, to reach the organization's other
    /// accounts; `None` for clients made directly with [`AccountContext::new`].
    pub(super) organization: Option<Accounts>,
    pub(super) session: String,
    /// Retries a call whose credentials a service said expired, on renewed ones.
    pub(super) renewal: Option<ExpiredTokenClassifier>,
}

impl AccountContext {
    /// Clients for `target` on an SDK configuration that already holds its credentials.
    pub fn new(target: Target, config: SdkConfig) -> Self {
        Self::build(target, config, None, None)
    }

    /// Clients for `target` on assumed-role `credentials`, assumed again when
    /// a service says they expired.
    pub fn with_renewable_credentials(
        target: Target,
        config: SdkConfig,
        credentials: RenewableCredentials,
    ) -> Self {
        let config = on_renewable_credentials(&config, &credentials);
        Self::build(target, config, Some(credentials.retry_classifier()), None)
    }

    /// Clients for `target` on `home`; with `pace`, the calls of each
    /// service client are paced by that service's limiter.
    pub(super) fn build(
        target: Target,
        home: SdkConfig,
        renewal: Option<ExpiredTokenClassifier>,
        pace: Option<&Pace>,
    ) -> Self {
        // Chatbot and the Support App are called in the target's region (one
        // that serves them); IAM, served everywhere, in the provider's own.
        let config = home
            .to_builder()
            .region(Region::new(target.region.clone()))
            .build();
        macro_rules! client {
            ($sdk:ident, paced as $api:expr) => {
                client!($sdk, &paced(&config, pace, $api))
            };
            ($sdk:ident, $config:expr) => {{
                let mut builder = $sdk::config::Builder::from($config);
                if let Some(renewal) = &renewal {
                    builder = builder.retry_classifier(renewal.clone());
                }
                $sdk::Client::from_conf(builder.build())
            }};
        }
        AccountContext {
            chatbot: client!(aws_sdk_chatbot, paced as Api::Chatbot),
            supportapp: client!(aws_sdk_supportapp, paced as Api::SupportApp),
            iam: client!(aws_sdk_iam, &home),
            target,
            config,
            organization: None,
            session: "chatops".to_owned(),
            renewal,
        }
    }

    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.target.account_id
    }

    /// An SNS client for `region`: topics may live in any region.
    pub fn sns(&self, region: &str) -> aws_sdk_sns::Client {
        let mut builder =
            aws_sdk_sns::config::Builder::from(&self.config).region(Region::new(region.to_owned()));
        if let Some(renewal) = &self.renewal {
            builder = builder.retry_classifier(renewal.clone());
        }
        aws_sdk_sns::Client::from_conf(builder.build())
    }

    /// Clients acting in `account_id`, another account of the same
    /// organization, to read what a configuration refers to there (such as an
    /// SNS topic). The account passes the same checks as a request's target:
    /// an account outside the organization gives `Error::AccessDenied`.
    pub async fn in_account(&self, account_id: &str) -> Result<AccountContext> {
        let accounts = self.organization()?;
        let target = Target {
            account_id: account_id.to_owned(),
            ..self.target.clone()
        };
        accounts.account_context(&target, &self.session).await
    }

    /// The id of the organization's management account.
    pub async fn management_account_id(&self) -> Result<String> {
        self.organization()?.management_account_id().await
    }

    fn organization(&self) -> Result<&Accounts> {
        self.organization.as_ref().ok_or_else(|| Error::Service {
            service: "chatops",
            operation: "organization",
            message:
                "internal error: these clients were not made by the provider and cannot reach \
                      other accounts; please report it"
                    .into(),
        })
    }
}
