//! Which account a request acts in, and the clients that act there.
//!
//! A member account's stack may only act in its own account; naming another
//! account in `AccountId` is reserved to the admin accounts of the
//! configuration, or any member could act in any other (confused deputy).
//! Every target must be an ACTIVE account of the provider's organization, and
//! the provider reaches it by assuming the execution role with the ExternalId.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig};
use aws_sdk_organizations::types::AccountStatus;
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use tokio::sync::{Mutex, OnceCell};

use crate::config::ProviderConfig;
use crate::credentials::{ExpiredTokenClassifier, Renew, RenewableCredentials};
use crate::endpoints::{self, Service};
use crate::error::{Error, Result};
use crate::properties::CommonProperties;

/// Assumed-role credentials are refreshed this long before they expire.
const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// How long a warm Lambda trusts what Organizations said about an account.
const MEMBERSHIP_TTL: Duration = Duration::from_secs(300);

/// The account and region a request acts in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The 12-digit account id.
    pub account_id: String,
    /// The region whose endpoints are called.
    pub region: String,
    /// The partition, from the stack's ARN (`aws`, `aws-cn`, ...).
    pub partition: String,
}

/// The service clients of one target account, built on assumed-role credentials.
#[derive(Clone, Debug)]
pub struct AccountContext {
    /// The account these clients act in.
    pub target: Target,
    config: SdkConfig,
    /// AWS Chatbot.
    pub chatbot: aws_sdk_chatbot::Client,
    /// AWS Support App.
    pub supportapp: aws_sdk_supportapp::Client,
    /// IAM, to check channel roles.
    pub iam: aws_sdk_iam::Client,
    /// The provider that made these clients, to reach the organization's other
    /// accounts; `None` for clients made directly with [`AccountContext::new`].
    organization: Option<Provider>,
    session: String,
    /// Retries a call whose credentials a service said expired, on renewed ones.
    renewal: Option<ExpiredTokenClassifier>,
}

impl AccountContext {
    /// Clients for `target` on an SDK configuration that already holds its credentials.
    pub fn new(target: Target, config: SdkConfig) -> Self {
        Self::build(target, config, None)
    }

    /// Clients for `target` on assumed-role `credentials`, assumed again when
    /// a service says they expired.
    pub fn with_renewable_credentials(
        target: Target,
        config: SdkConfig,
        credentials: RenewableCredentials,
    ) -> Self {
        let config = on_renewable_credentials(&config, &credentials);
        Self::build(target, config, Some(credentials.retry_classifier()))
    }

    fn build(target: Target, home: SdkConfig, renewal: Option<ExpiredTokenClassifier>) -> Self {
        // Chatbot and the Support App are called in the target's region (one
        // that serves them); IAM, served everywhere, in the provider's own.
        let config = home
            .to_builder()
            .region(Region::new(target.region.clone()))
            .build();
        macro_rules! client {
            ($sdk:ident) => {
                client!($sdk, &config)
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
            chatbot: client!(aws_sdk_chatbot),
            supportapp: client!(aws_sdk_supportapp),
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
        let provider = self.organization()?;
        let target = Target {
            account_id: account_id.to_owned(),
            ..self.target.clone()
        };
        provider.account_context(&target, &self.session).await
    }

    /// The id of the organization's management account.
    pub async fn management_account_id(&self) -> Result<String> {
        self.organization()?.management_account_id().await
    }

    fn organization(&self) -> Result<&Provider> {
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

struct CachedCredentials {
    credentials: Credentials,
    expires: SystemTime,
}

/// The central provider: its own AWS configuration and what it caches while
/// warm. Clones share the caches.
#[derive(Clone)]
pub struct Provider {
    config: ProviderConfig,
    base: SdkConfig,
    sts: aws_sdk_sts::Client,
    organizations: aws_sdk_organizations::Client,
    credentials: Arc<Mutex<HashMap<String, CachedCredentials>>>,
    memberships: Arc<Mutex<HashMap<String, (AccountStatus, Instant)>>>,
    management_account: Arc<OnceCell<String>>,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// Loads the SDK configuration the standard way (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...).
    pub async fn from_env(config: ProviderConfig) -> Self {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            .http_client(crate::transport::shared_https_client())
            .load()
            .await;
        Self::new(config, base)
    }

    /// A provider on an explicit SDK configuration.
    pub fn new(config: ProviderConfig, base: SdkConfig) -> Self {
        Provider {
            sts: aws_sdk_sts::Client::new(&base),
            organizations: aws_sdk_organizations::Client::new(&base),
            config,
            base,
            credentials: Arc::default(),
            memberships: Arc::default(),
            management_account: Arc::default(),
        }
    }

    /// The SDK configuration of the provider's own account (its credentials,
    /// region, endpoint and HTTP client).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.base
    }

    /// Records accounts just listed as ACTIVE by Organizations (ListAccounts),
    /// so that acting in them needs no DescribeAccount call each.
    pub async fn remember_active_accounts(&self, account_ids: impl IntoIterator<Item = String>) {
        let now = Instant::now();
        let mut memberships = self.memberships.lock().await;
        for account_id in account_ids {
            memberships.insert(account_id, (AccountStatus::Active, now));
        }
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

    /// The region `service` is called in when a resource names none: the
    /// provider setting when given, else the provider's own region when it
    /// serves the API, else the nearest that does.
    pub fn service_region(&self, service: Service) -> Result<String> {
        let configured = match service {
            Service::Chatbot => self.config.chatbot_region.as_deref(),
            Service::SupportApp => self.config.supportapp_region.as_deref(),
        };
        service.default_region(&self.region(), configured)
    }

    /// The target of a request from `stack_id` with `common` properties for a
    /// resource of `service`; refuses another account than the stack's unless
    /// the stack is in an admin account. A `Region` is a region name (never a
    /// host); one where the service has no endpoint is called in the nearest
    /// served region (Create and Update refuse it before, see
    /// [`Service::check_region_property`]: this keeps a Delete of what an
    /// older release made in such a region from getting stuck).
    pub fn target(
        &self,
        stack_id: &str,
        common: &CommonProperties,
        service: Service,
    ) -> Result<Target> {
        let stack = StackArn::parse(stack_id)?;
        if let Some(account_id) = &common.account_id {
            check_account_id(account_id)?;
        }
        let account_id = match &common.account_id {
            Some(wanted) if wanted != &stack.account_id => {
                if !self.config.admin_accounts.contains(&stack.account_id) {
                    return Err(Error::AccessDenied(format!(
                        "stack account {} may not create resources in account {wanted}: only the \
                         provider's admin accounts (CHATOPS_ADMIN_ACCOUNTS) may set AccountId to \
                         another account; remove AccountId or deploy the stack in account {wanted}",
                        stack.account_id
                    )));
                }
                wanted.clone()
            }
            _ => stack.account_id.clone(),
        };
        let region = match &common.region {
            Some(region) => {
                endpoints::check_region_name(region)?;
                service.nearest(region).map(str::to_owned).ok_or_else(|| {
                    Error::invalid_property(
                        "Region",
                        format!(
                            "{region:?} has no {} endpoint near it; name one of {}",
                            service.name(),
                            service.served_regions().join(", ")
                        ),
                    )
                })?
            }
            None => self.service_region(service)?,
        };
        Ok(Target {
            account_id,
            region,
            partition: stack.partition,
        })
    }

    /// Clients acting in `target`, after checking it is an ACTIVE account of the
    /// organization. `session` says which stack and resource asked, for CloudTrail.
    pub async fn account_context(&self, target: &Target, session: &str) -> Result<AccountContext> {
        let credentials = self.renewable_credentials(target, session).await?;
        Ok(AccountContext {
            organization: Some(self.clone()),
            session: session.to_owned(),
            ..AccountContext::with_renewable_credentials(
                target.clone(),
                self.base.clone(),
                credentials,
            )
        })
    }

    /// A CloudFormation client acting in `target` (in its region), on the same
    /// credentials as [`Provider::account_context`] but without the service
    /// clients of the work: all that verifying a request needs.
    pub async fn cloudformation_in(
        &self,
        target: &Target,
        session: &str,
    ) -> Result<aws_sdk_cloudformation::Client> {
        let credentials = self.renewable_credentials(target, session).await?;
        let config = on_renewable_credentials(&self.base, &credentials);
        let config = aws_sdk_cloudformation::config::Builder::from(&config)
            .region(Region::new(target.region.clone()))
            .retry_classifier(credentials.retry_classifier())
            .build();
        Ok(aws_sdk_cloudformation::Client::from_conf(config))
    }

    /// The execution role's credentials in `target`, after checking that it
    /// is an ACTIVE account of the organization; assumed again when a
    /// service says they expired.
    async fn renewable_credentials(
        &self,
        target: &Target,
        session: &str,
    ) -> Result<RenewableCredentials> {
        self.check_membership(&target.account_id).await?;
        let credentials = self.credentials_for(target, session).await?;
        let renew: Renew = {
            let (provider, target, session) = (self.clone(), target.clone(), session.to_owned());
            Arc::new(move || {
                let (provider, target, session) =
                    (provider.clone(), target.clone(), session.clone());
                Box::pin(async move {
                    provider.credentials.lock().await.remove(&target.account_id);
                    provider.credentials_for(&target, &session).await
                })
            })
        };
        Ok(RenewableCredentials::new(credentials, renew))
    }

    /// The id of the management account of the provider's organization, read
    /// once per warm Lambda.
    pub async fn management_account_id(&self) -> Result<String> {
        self.management_account
            .get_or_try_init(|| async {
                let organization = self
                    .organizations
                    .describe_organization()
                    .send()
                    .await
                    .map_err(|e| {
                        Error::from_sdk(
                            "organizations",
                            "DescribeOrganization",
                            "the provider's organization",
                            e,
                        )
                    })?;
                organization
                    .organization()
                    .and_then(|o| o.master_account_id())
                    .map(str::to_owned)
                    .ok_or_else(|| Error::Service {
                        service: "organizations",
                        operation: "DescribeOrganization",
                        message: "the answer names no management account".into(),
                    })
            })
            .await
            .cloned()
    }

    /// Refuses an account that is not an ACTIVE member of the organization.
    pub async fn check_membership(&self, account_id: &str) -> Result<()> {
        let cached = self.memberships.lock().await.get(account_id).cloned();
        let status = match cached {
            Some((status, at)) if at.elapsed() < MEMBERSHIP_TTL => status,
            _ => {
                let status = self.describe_account_status(account_id).await?;
                self.memberships
                    .lock()
                    .await
                    .insert(account_id.to_owned(), (status.clone(), Instant::now()));
                status
            }
        };
        if status != AccountStatus::Active {
            return Err(Error::AccessDenied(format!(
                "account {account_id} is {} in the organization, not ACTIVE; the provider only acts in active member accounts",
                status.as_str()
            )));
        }
        Ok(())
    }

    async fn describe_account_status(&self, account_id: &str) -> Result<AccountStatus> {
        if let Some(expected) = &self.config.organization_id {
            let organization = self
                .organizations
                .describe_organization()
                .send()
                .await
                .map_err(|e| {
                    Error::from_sdk(
                        "organizations",
                        "DescribeOrganization",
                        "the provider's organization",
                        e,
                    )
                })?;
            let actual = organization
                .organization()
                .and_then(|o| o.id())
                .unwrap_or_default();
            if actual != expected {
                return Err(Error::AccessDenied(format!(
                    "the provider's account is in organization {actual}, not {expected} (CHATOPS_ORGANIZATION_ID)"
                )));
            }
        }
        let response = self
            .organizations
            .describe_account()
            .account_id(account_id)
            .send()
            .await
            .map_err(|e| {
                let code = aws_sdk_sts::error::ProvideErrorMetadata::code(&e).unwrap_or_default().to_owned();
                match code.as_str() {
                    "AccountNotFoundException" => Error::AccessDenied(format!(
                        "account {account_id} is not a member of the provider's organization; the provider only acts in its organization's accounts"
                    )),
                    "AWSOrganizationsNotInUseException" => Error::AccessDenied(
                        "the provider's account is not in an AWS Organization; deploy it in the organization's management or delegated administrator account".to_owned(),
                    ),
                    // Not IAM (whose message names the action): Organizations answers DescribeAccount
                    // only in the management account or a delegated administrator account.
                    "AccessDeniedException"
                        if !aws_sdk_sts::error::ProvideErrorMetadata::message(&e)
                            .unwrap_or_default()
                            .contains("not authorized to perform") =>
                    {
                        Error::AccessDenied(format!(
                            "Organizations refused DescribeAccount of account {account_id}: the provider's account is \
                             neither the organization's management account nor a delegated administrator; deploy \
                             provider.yaml in one of them (README, Deploy it for real, step 2)"
                        ))
                    }
                    _ => Error::from_sdk("organizations", "DescribeAccount", &format!("account {account_id}"), e),
                }
            })?;
        Ok(response
            .account()
            .and_then(|a| a.status())
            .cloned()
            .unwrap_or(AccountStatus::Suspended))
    }

    async fn credentials_for(&self, target: &Target, session: &str) -> Result<Credentials> {
        // The lock is not held across AssumeRole: a plan assumes roles in many
        // accounts at once, and one slow call must not hold up the others.
        if let Some(cached) = self.credentials.lock().await.get(&target.account_id) {
            if cached.expires > SystemTime::now() + CREDENTIALS_REFRESH_MARGIN {
                return Ok(cached.credentials.clone());
            }
        }
        let role_arn = format!(
            "arn:{}:iam::{}:role/{}",
            target.partition, target.account_id, self.config.execution_role_name
        );
        let mut request = self
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(session_name(session));
        if let Some(external_id) = &self.config.external_id {
            request = request.external_id(external_id);
        }
        let response = request.send().await.map_err(|e| {
            let code = aws_sdk_sts::error::ProvideErrorMetadata::code(&e).unwrap_or_default().to_owned();
            if code.starts_with("AccessDenied") {
                let message = aws_sdk_sts::error::ProvideErrorMetadata::message(&e).unwrap_or_default().to_owned();
                Error::AccessDenied(format!(
                    "the provider could not assume {role_arn} in account {} ({message}): check that the \
                     member-role StackSet is deployed there, that the role trusts the provider's role, \
                     that its ExternalId matches CHATOPS_EXTERNAL_ID, and that the provider's role may \
                     sts:AssumeRole it (cfn-templates/provider.yaml)",
                    target.account_id
                ))
            } else {
                Error::from_sdk("sts", "AssumeRole", &role_arn, e)
            }
        })?;
        let issued = response.credentials().ok_or_else(|| {
            Error::AccessDenied(format!("AssumeRole on {role_arn} returned no credentials"))
        })?;
        let expires = SystemTime::try_from(*issued.expiration())
            .unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(900));
        let credentials = Credentials::new(
            issued.access_key_id(),
            issued.secret_access_key(),
            Some(issued.session_token().to_owned()),
            Some(expires),
            "chatops-assume-role",
        );
        self.credentials.lock().await.insert(
            target.account_id.clone(),
            CachedCredentials {
                credentials: credentials.clone(),
                expires,
            },
        );
        Ok(credentials)
    }
}

/// True for an AWS account id: 12 digits.
fn is_account_id(account_id: &str) -> bool {
    account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit())
}

/// Refuses an `AccountId` that is not 12 digits, before it reaches any call.
pub fn check_account_id(account_id: &str) -> Result<()> {
    if is_account_id(account_id) {
        return Ok(());
    }
    Err(Error::invalid_property(
        "AccountId",
        format!(
            "{account_id:?} is not an AWS account id (12 digits); name the account by its id, or \
             leave AccountId out to act in the stack's own account"
        ),
    ))
}

/// `config` acting on `credentials`, asked at each attempt so that a renewal
/// is seen by the retry.
fn on_renewable_credentials(config: &SdkConfig, credentials: &RenewableCredentials) -> SdkConfig {
    config
        .to_builder()
        .identity_cache(IdentityCache::no_cache())
        .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
        .build()
}

/// The parts of a CloudFormation StackId the provider needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackArn {
    /// The partition, such as `aws`.
    pub partition: String,
    /// The stack's region.
    pub region: String,
    /// The stack's account.
    pub account_id: String,
    /// The stack's name.
    pub name: String,
}

impl StackArn {
    /// Parses `arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/GUID`.
    pub fn parse(stack_id: &str) -> Result<Self> {
        let parts: Vec<&str> = stack_id.splitn(6, ':').collect();
        let valid = parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "cloudformation"
            // The region picks the CloudFormation endpoint: never a host.
            && endpoints::is_region_name(parts[3])
            && is_account_id(parts[4])
            && parts[5].starts_with("stack/");
        if !valid {
            return Err(Error::InvalidRequest(format!(
                "StackId {stack_id:?} is not a CloudFormation stack ARN (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID)"
            )));
        }
        Ok(StackArn {
            partition: parts[1].to_owned(),
            region: parts[3].to_owned(),
            account_id: parts[4].to_owned(),
            name: parts[5].split('/').nth(1).unwrap_or_default().to_owned(),
        })
    }
}

/// A role session name within STS's limits: 2–64 characters of `[\w+=,.@-]`.
fn session_name(wanted: &str) -> String {
    let mut name: String = wanted
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while name.len() < 2 {
        name.push('-');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = "arn:aws:cloudformation:us-east-1:100000000001:stack/app/guid";

    fn provider(admins: &[&str]) -> Provider {
        let config = ProviderConfig {
            admin_accounts: admins.iter().map(|a| a.to_string()).collect(),
            ..ProviderConfig::from_lookup(|_| None)
        };
        let base = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .behavior_version(BehaviorVersion::latest())
            .build();
        Provider::new(config, base)
    }

    fn common(account: Option<&str>) -> CommonProperties {
        CommonProperties {
            account_id: account.map(str::to_owned),
            region: None,
        }
    }

    #[test]
    fn default_target_is_the_stacks_account() {
        let target = provider(&[])
            .target(STACK, &common(None), Service::Chatbot)
            .unwrap();
        assert_eq!(target.account_id, "100000000001");
        // us-east-1 has no Chatbot endpoint: the nearest one is called.
        assert_eq!(target.region, "us-east-2");
        let target = provider(&[])
            .target(STACK, &common(None), Service::SupportApp)
            .unwrap();
        assert_eq!(target.region, "us-east-1");
    }

    #[test]
    fn the_provider_setting_chooses_the_service_region() {
        let config = ProviderConfig {
            chatbot_region: Some("eu-west-1".into()),
            ..ProviderConfig::from_lookup(|_| None)
        };
        let provider = Provider::new(config, provider(&[]).base.clone());
        let target = provider
            .target(STACK, &common(None), Service::Chatbot)
            .unwrap();
        assert_eq!(target.region, "eu-west-1");
        let named = CommonProperties {
            region: Some("us-west-2".into()),
            ..common(None)
        };
        let target = provider.target(STACK, &named, Service::Chatbot).unwrap();
        assert_eq!(target.region, "us-west-2", "a resource's Region wins");
    }

    #[test]
    fn region_and_account_id_never_steer_a_host() {
        for (account, region) in [
            (Some("x@127.0.0.1:9"), None),
            (None, Some("x@127.0.0.1:9/")),
            (None, Some("us-east-1.evil.example")),
        ] {
            let common = CommonProperties {
                account_id: account.map(str::to_owned),
                region: region.map(str::to_owned),
            };
            let err = provider(&["100000000001"])
                .target(STACK, &common, Service::Chatbot)
                .unwrap_err();
            let property = if account.is_some() {
                "AccountId"
            } else {
                "Region"
            };
            assert!(
                matches!(&err, Error::InvalidProperty { property: p, .. } if p == property),
                "{err}"
            );
        }
    }

    #[test]
    fn naming_the_own_account_is_fine_without_allowlist() {
        let target = provider(&[])
            .target(STACK, &common(Some("100000000001")), Service::Chatbot)
            .unwrap();
        assert_eq!(target.account_id, "100000000001");
    }

    #[test]
    fn another_account_needs_the_allowlist() {
        let err = provider(&[])
            .target(STACK, &common(Some("100000000002")), Service::Chatbot)
            .unwrap_err();
        assert!(
            matches!(err, Error::AccessDenied(ref m) if m.contains("CHATOPS_ADMIN_ACCOUNTS")),
            "{err}"
        );
        let target = provider(&["100000000001"])
            .target(STACK, &common(Some("100000000002")), Service::Chatbot)
            .unwrap();
        assert_eq!(target.account_id, "100000000002");
    }

    /// The provider role assumes execution roles, and planners the plan
    /// role, only in the organization, whatever account is named.
    #[test]
    fn the_provider_role_assumes_roles_of_its_organization_only() {
        let template = include_str!("../../cfn-templates/provider.yaml");
        for sid in ["AssumeMemberExecutionRole", "AssumePlanRole"] {
            let statement = template
                .split(&format!("- Sid: {sid}"))
                .nth(1)
                .and_then(|rest| rest.split("- Sid:").next())
                .unwrap_or_else(|| panic!("provider.yaml has the {sid} statement"));
            for needed in [
                "Action: sts:AssumeRole",
                "StringEquals:",
                "aws:ResourceOrgID: !Ref OrganizationId",
            ] {
                assert!(
                    statement.contains(needed),
                    "{needed} missing in:{statement}"
                );
            }
        }
        assert_eq!(
            template.matches("sts:AssumeRole").count(),
            3,
            "sts:AssumeRole appears only in the Lambda trust policy and these two statements"
        );
    }

    #[test]
    fn stack_arn_is_checked() {
        assert!(StackArn::parse("not-an-arn").is_err());
        for host in [
            "x@127.0.0.1:9",
            "us-east-1.evil.example",
            "US-EAST-1",
            "us-east-",
        ] {
            let stack_id = format!("arn:aws:cloudformation:{host}:100000000001:stack/app/guid");
            assert!(StackArn::parse(&stack_id).is_err(), "{host}");
        }
        for region in ["us-gov-west-1", "ap-southeast-1"] {
            let stack_id = format!("arn:aws:cloudformation:{region}:100000000001:stack/app/guid");
            assert_eq!(StackArn::parse(&stack_id).unwrap().region, region);
        }
        let arn = StackArn::parse(STACK).unwrap();
        assert_eq!(
            (arn.account_id.as_str(), arn.name.as_str()),
            ("100000000001", "app")
        );
    }

    #[test]
    fn session_names_are_sanitised_and_bounded() {
        assert_eq!(session_name("app/Alerts"), "app-Alerts");
        assert_eq!(session_name(&"x".repeat(100)).len(), 64);
        assert_eq!(session_name(""), "--");
    }
}
