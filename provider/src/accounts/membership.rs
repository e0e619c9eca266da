//! Whether an account is one the provider may act in: an ACTIVE member of
//! its organization, as Organizations says (cached while warm).

use std::time::{Duration, Instant};

use aws_sdk_organizations::types::{AccountStatus, Organization};

use crate::error::{Error, Result};

use super::Accounts;

/// How long a warm Lambda trusts what Organizations said about an account.
const MEMBERSHIP_TTL: Duration = Duration::from_secs(300);

impl Accounts {
    /// Records accounts just listed as ACTIVE by Organizations (ListAccounts),
    /// so that acting in them needs no DescribeAccount call each.
    pub async fn remember_active_accounts(&self, account_ids: impl IntoIterator<Item = String>) {
        let now = Instant::now();
        let mut memberships = self.memberships.lock().await;
        for account_id in account_ids {
            memberships.insert(account_id, (AccountStatus::Active, now));
        }
    }

    /// The provider's organization, as DescribeOrganization gives it, read
    /// once per warm Lambda.
    async fn organization(&self) -> Result<&Organization> {
        self.organization
            .get_or_try_init(|| async {
                let described = self
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
                described
                    .organization()
                    .cloned()
                    .ok_or_else(|| Error::Service {
                        service: "organizations",
                        operation: "DescribeOrganization",
                        message: "the answer names no organization".into(),
                    })
            })
            .await
    }

    /// The id of the management account of the provider's organization.
    pub async fn management_account_id(&self) -> Result<String> {
        self.organization()
            .await?
            .master_account_id()
            .map(str::to_owned)
            .ok_or_else(|| Error::Service {
                service: "organizations",
                operation: "DescribeOrganization",
                message: "the answer names no management account".into(),
            })
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
            let actual = self.organization().await?.id().unwrap_or_default();
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
}

#[cfg(test)]
mod tests {
    /// The provider role assumes execution roles, and planners the plan
    /// role, only in the organization, whatever account is named.
    #[test]
    fn the_provider_role_assumes_roles_of_its_organization_only() {
        let template = include_str!("../../../cfn-templates/provider.yaml");
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
}
