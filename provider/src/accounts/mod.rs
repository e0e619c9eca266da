//! The accounts the provider acts in, and how it reaches them.
//!
//! A member account's stack may only act in its own account; naming another
//! account in `AccountId` is reserved to the admin accounts of the
//! configuration, or any member could act in any other (confused deputy).
//! Every target must be an ACTIVE account of the provider's organization
//! ([`membership`]), and the provider reaches it by assuming the execution
//! role with the ExternalId ([`credentials`]), building the clients of one
//! account ([`context`]) for the account and region a request names
//! ([`target`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig};
use aws_sdk_organizations::types::AccountStatus;
use tokio::sync::{Mutex, OnceCell};

use crate::adaptive::{Api, Pace};
use crate::config::ProviderConfig;
use crate::error::Result;

pub mod context;
pub mod credentials;
pub mod membership;
pub mod target;
pub mod transport;

pub use context::AccountContext;
pub use target::{StackArn, Target, check_account_id};

/// The provider's way into the organization's accounts: its own AWS
/// configuration, and what it caches while warm (assumed-role credentials,
/// account memberships, the organization). Clones share the caches.
#[derive(Clone)]
pub struct Accounts {
    config: ProviderConfig,
    base: SdkConfig,
    sts: aws_sdk_sts::Client,
    organizations: aws_sdk_organizations::Client,
    credentials: Arc<Mutex<HashMap<String, credentials::CachedCredentials>>>,
    memberships: Arc<Mutex<HashMap<String, (AccountStatus, Instant)>>>,
    organization: Arc<OnceCell<aws_sdk_organizations::types::Organization>>,
    pace: Pace,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Loads the SDK configuration the standard way (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...).
    pub async fn from_env(config: ProviderConfig) -> Self {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            .http_client(transport::shared_https_client())
            .load()
            .await;
        Self::new(config, base)
    }

    /// Access through an explicit SDK configuration.
    pub fn new(config: ProviderConfig, base: SdkConfig) -> Self {
        let pace = Pace::default();
        Accounts {
            sts: aws_sdk_sts::Client::new(&paced(&base, Some(&pace), Api::Sts)),
            organizations: aws_sdk_organizations::Client::new(&paced(
                &base,
                Some(&pace),
                Api::Organizations,
            )),
            config,
            base,
            credentials: Arc::default(),
            memberships: Arc::default(),
            organization: Arc::default(),
            pace,
        }
    }

    /// The limiters of the calls in flight to each service, shared by every
    /// client the provider makes.
    pub fn pace(&self) -> &Pace {
        &self.pace
    }

    /// The provider's own SDK configuration, with calls paced as those to `api`.
    pub fn sdk_config_for(&self, api: Api) -> SdkConfig {
        paced(&self.base, Some(&self.pace), api)
    }

    /// The SDK configuration of the provider's own account (its credentials,
    /// region, endpoint and HTTP client).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.base
    }

    /// The provider's configuration.
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The provider's own region, the default for `Region`.
    pub fn region(&self) -> String {
        self.base
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_owned())
    }

    /// Clients acting in `target`, after checking it is an ACTIVE account of the
    /// organization. `session` says which stack and resource asked, for CloudTrail.
    pub async fn account_context(&self, target: &Target, session: &str) -> Result<AccountContext> {
        let credentials = self.renewable_credentials(target, session).await?;
        let config = credentials::on_renewable_credentials(&self.base, &credentials);
        Ok(AccountContext {
            organization: Some(self.clone()),
            session: session.to_owned(),
            ..AccountContext::build(
                target.clone(),
                config,
                Some(credentials.retry_classifier()),
                Some(&self.pace),
            )
        })
    }

    /// A CloudFormation client acting in `target` (in its region), on the same
    /// credentials as [`Accounts::account_context`] but without the service
    /// clients of the work: all that verifying a request needs.
    pub async fn cloudformation_in(
        &self,
        target: &Target,
        session: &str,
    ) -> Result<aws_sdk_cloudformation::Client> {
        let credentials = self.renewable_credentials(target, session).await?;
        let config = credentials::on_renewable_credentials(&self.base, &credentials);
        let config = paced(&config, Some(&self.pace), Api::CloudFormation);
        let config = aws_sdk_cloudformation::config::Builder::from(&config)
            .region(Region::new(target.region.clone()))
            .retry_classifier(credentials.retry_classifier())
            .build();
        Ok(aws_sdk_cloudformation::Client::from_conf(config))
    }
}

/// `config` with the calls it sends paced as those to `api` (unchanged
/// without a pace, or without an HTTP client to wrap: the SDK's default).
fn paced(config: &SdkConfig, pace: Option<&Pace>, api: Api) -> SdkConfig {
    match (pace, config.http_client()) {
        (Some(pace), Some(http)) => config
            .to_builder()
            .http_client(pace.http_client(api, http))
            .build(),
        _ => config.clone(),
    }
}
