//! Where a request acts: the account and region its properties name, with
//! the defaults (the stack's account, the service's region) decided here only.

use crate::endpoints::{self, Service};
use crate::error::{Error, Result};
use crate::properties::CommonProperties;

use super::Accounts;

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

impl Accounts {
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

    /// Where a resource that names no `AccountId` nor `Region` is: the
    /// account of its stack, and the region the provider calls `service` in.
    /// Decided here only: where a request acts ([`Accounts::target`]) and
    /// whether an Update changes anything ([`crate::change::decide_for`])
    /// start from the same defaults.
    pub fn default_target(&self, stack_id: &str, service: Service) -> Result<Target> {
        let stack = StackArn::parse(stack_id)?;
        Ok(Target {
            account_id: stack.account_id,
            region: self.service_region(service)?,
            partition: stack.partition,
        })
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
        let mut target = self.default_target(stack_id, service)?;
        if let Some(wanted) = &common.account_id {
            check_account_id(wanted)?;
            if *wanted != target.account_id {
                if !self.config.admin_accounts.contains(&target.account_id) {
                    return Err(Error::AccessDenied(format!(
                        "stack account {} may not create resources in account {wanted}: only the \
                         provider's admin accounts (CHATOPS_ADMIN_ACCOUNTS) may set AccountId to \
                         another account; remove AccountId or deploy the stack in account {wanted}",
                        target.account_id
                    )));
                }
                target.account_id = wanted.clone();
            }
        }
        if let Some(region) = &common.region {
            endpoints::check_region_name(region)?;
            target.region = service.nearest(region).map(str::to_owned).ok_or_else(|| {
                Error::invalid_property(
                    "Region",
                    format!(
                        "{region:?} has no {} endpoint near it; name one of {}",
                        service.name(),
                        service.served_regions().join(", ")
                    ),
                )
            })?;
        }
        Ok(target)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProviderConfig;
    use aws_config::{BehaviorVersion, Region, SdkConfig};

    const STACK: &str = "arn:aws:cloudformation:us-east-1:100000000001:stack/app/guid";

    fn accounts(admins: &[&str]) -> Accounts {
        let config = ProviderConfig {
            admin_accounts: admins.iter().map(|a| a.to_string()).collect(),
            ..ProviderConfig::from_lookup(|_| None)
        };
        let base = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .behavior_version(BehaviorVersion::latest())
            .build();
        Accounts::new(config, base)
    }

    fn common(account: Option<&str>) -> CommonProperties {
        CommonProperties {
            account_id: account.map(str::to_owned),
            ..CommonProperties::default()
        }
    }
    #[test]
    fn default_target_is_the_stacks_account() {
        let target = accounts(&[])
            .target(STACK, &common(None), Service::Chatbot)
            .unwrap();
        assert_eq!(target.account_id, "100000000001");
        // us-east-1 has no Chatbot endpoint: the nearest one is called.
        assert_eq!(target.region, "us-east-2");
        let target = accounts(&[])
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
        let accounts = Accounts::new(config, accounts(&[]).base.clone());
        let target = accounts
            .target(STACK, &common(None), Service::Chatbot)
            .unwrap();
        assert_eq!(target.region, "eu-west-1");
        let named = CommonProperties {
            region: Some("us-west-2".into()),
            ..common(None)
        };
        let target = accounts.target(STACK, &named, Service::Chatbot).unwrap();
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
                ..CommonProperties::default()
            };
            let err = accounts(&["100000000001"])
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
        let target = accounts(&[])
            .target(STACK, &common(Some("100000000001")), Service::Chatbot)
            .unwrap();
        assert_eq!(target.account_id, "100000000001");
    }

    #[test]
    fn another_account_needs_the_allowlist() {
        let err = accounts(&[])
            .target(STACK, &common(Some("100000000002")), Service::Chatbot)
            .unwrap_err();
        assert!(
            matches!(err, Error::AccessDenied(ref m) if m.contains("CHATOPS_ADMIN_ACCOUNTS")),
            "{err}"
        );
        let target = accounts(&["100000000001"])
            .target(STACK, &common(Some("100000000002")), Service::Chatbot)
            .unwrap();
        assert_eq!(target.account_id, "100000000002");
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
}
