//! The AWS Support App in one account: whether the management account has
//! authorized each workspace the template names and registered it for the
//! organization (its ListSlackWorkspaceConfigurations,
//! `allowOrganizationMemberAccount`), whether this account has added it, and
//! the headroom under the per-account quotas.
//!
//! The order comes from the API model (RegisterSlackWorkspaceForOrganization):
//! the management account authorizes a workspace in the Support Center (a
//! console step) and registers it for the organization; only then can a
//! member account register it, by API. Quotas: "You can add up to 5 Slack
//! workspaces for your account" and "up to 20 Slack channels for your
//! account" (Support App API Reference, CreateSlackChannelConfiguration:
//! `QUOTAS`).

use std::collections::BTreeSet;

use super::{Check, Doctor, Needs, Step, Who, console};
use crate::accounts::{AccountContext, Target};
use crate::endpoints::Service;
use crate::error::Result;
use crate::resources::supportapp::{MAX_CHANNELS, MAX_WORKSPACES, list_channels, list_workspaces};

const AREA: &str = "support app";

/// Where AWS documents the per-account quotas.
const QUOTAS: &str = "https://docs.aws.amazon.com/supportapp/latest/APIReference/API_CreateSlackChannelConfiguration.html";

/// A workspace of the management account: (team id, registered for the organization).
type ManagementWorkspace = (String, bool);

/// What the management account has authorized, read once per run.
pub struct Management {
    account_id: String,
    workspaces: std::result::Result<Vec<ManagementWorkspace>, String>,
}

impl Management {
    /// Reads the management account's Support App workspaces through the plan role there.
    pub async fn read(doctor: &Doctor<'_>, account_id: &str) -> Management {
        let read = async {
            let target = Target {
                account_id: account_id.to_owned(),
                region: doctor.accounts.service_region(Service::SupportApp)?,
                partition: crate::template::partition_of(&doctor.region).to_owned(),
            };
            let ctx = doctor
                .accounts
                .account_context(&target, super::SESSION)
                .await?;
            Ok::<_, crate::error::Error>(
                list_workspaces(&ctx)
                    .await?
                    .into_iter()
                    .map(|w| {
                        (
                            w.team_id().to_owned(),
                            w.allow_organization_member_account().unwrap_or(false),
                        )
                    })
                    .collect(),
            )
        };
        Management {
            account_id: account_id.to_owned(),
            workspaces: read.await.map_err(|e| e.to_string()),
        }
    }
}

/// Adds the Support App checks of the account to `checks`.
pub async fn check(
    ctx: &AccountContext,
    management: &Management,
    needs: Option<&Needs>,
    checks: &mut Vec<Check>,
) -> Result<()> {
    let workspaces = list_workspaces(ctx).await?;
    let channels = list_channels(ctx).await?;
    let registered: BTreeSet<&str> = workspaces.iter().map(|w| w.team_id()).collect();
    let is_management = ctx.account_id() == management.account_id;
    let mut new_workspaces = 0;
    let mut new_channels = 0;
    for team_id in needs.map(Needs::support_team_ids).unwrap_or_default() {
        let subject = format!("Slack workspace {team_id}");
        if registered.contains(team_id) {
            checks.push(Check::ready(AREA, subject, "added to this account"));
            continue;
        }
        new_workspaces += 1;
        // A member account can add only what the management account shared.
        let shared = match &management.workspaces {
            Err(why) => {
                checks.push(Check::blocked(
                    AREA,
                    subject,
                    format!(
                        "not added here, and the management account's workspaces could not be read: {why}"
                    ),
                    Step {
                        who: Who::PlatformTeam,
                        account_id: management.account_id.clone(),
                        title: format!(
                            "Deploy the plan role to the management account {} so that its Support App workspaces can be checked",
                            management.account_id
                        ),
                        console_url: None,
                        instructions: Vec::new(),
                        fix: Some("a stack of cfn-templates/member-role.yaml in the management account, with PlanPrincipalArn set".to_owned()),
                        source: None,
                    },
                ));
                continue;
            }
            Ok(list) => list
                .iter()
                .find(|(id, _)| id == team_id)
                .map(|(_, org)| *org),
        };
        let template_adds = needs.is_some_and(|n| n.support_workspaces.contains_key(team_id));
        checks.push(match shared {
            None => Check::blocked(
                AREA,
                subject,
                "the management account has not authorized it yet",
                console::authorize_support_app_slack(&management.account_id, team_id),
            ),
            Some(false) if !is_management => Check::blocked(
                AREA,
                subject,
                "the management account authorized it for itself only, not for the organization",
                console::register_for_organization(&management.account_id, team_id),
            ),
            _ if template_adds => Check::ready(
                AREA,
                subject,
                "not added yet; the template adds it (Custom::SupportAppSlackWorkspace)",
            ),
            _ => Check::blocked(
                AREA,
                subject,
                "not added to this account, and the template does not add it",
                console::register_in_member(ctx.account_id(), team_id),
            ),
        });
    }
    if let Some(needs) = needs {
        new_channels = needs
            .support_channels
            .keys()
            .filter(|(team, channel)| {
                !channels
                    .iter()
                    .any(|c| c.team_id() == team && c.channel_id() == channel)
            })
            .count();
    }
    checks.push(quota(
        ctx.account_id(),
        "workspaces",
        workspaces.len(),
        needs.map(|_| new_workspaces),
        MAX_WORKSPACES,
        "aws support-app delete-slack-workspace-configuration --team-id TEAM_ID --region us-east-1",
    ));
    checks.push(quota(
        ctx.account_id(),
        "channels",
        channels.len(),
        needs.map(|_| new_channels),
        MAX_CHANNELS,
        "aws support-app delete-slack-channel-configuration --team-id TEAM_ID --channel-id CHANNEL_ID --region us-east-1",
    ));
    Ok(())
}

/// The headroom under one per-account quota, with `adding` more to come.
fn quota(
    account_id: &str,
    what: &str,
    used: usize,
    adding: Option<usize>,
    max: usize,
    free_one: &str,
) -> Check {
    let subject = format!("quota: {what}");
    let detail = match adding {
        Some(adding) => format!("{used} of {max} used, the template adds {adding}"),
        None => format!("{used} of {max} used"),
    };
    let adding = adding.unwrap_or(0);
    if used + adding <= max {
        return Check::ready(AREA, subject, detail);
    }
    let over = used + adding - max;
    Check::blocked(
        AREA,
        subject,
        detail,
        Step {
            who: Who::MemberAccountAdmin,
            account_id: account_id.to_owned(),
            title: format!(
                "Free {over} Support App Slack {what} in account {account_id} (at most {max} per account)"
            ),
            console_url: Some(console::SUPPORT_CENTER_CONSOLE.to_owned()),
            instructions: Vec::new(),
            fix: Some(format!(
                "delete {what} this account no longer needs (Slack configuration in the Support Center, or {free_one}), or configure fewer in the template"
            )),
            source: Some(QUOTAS.to_owned()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn a_quota_blocks_only_when_the_template_would_pass_it() {
        assert_eq!(
            quota("100000000001", "channels", 19, Some(1), 20, "x").status,
            Status::Ready
        );
        let full = quota("100000000001", "channels", 20, Some(1), 20, "x");
        assert_eq!(full.status, Status::Blocked);
        assert_eq!(full.detail, "20 of 20 used, the template adds 1");
        assert!(
            full.step
                .unwrap()
                .title
                .starts_with("Free 1 Support App Slack channels")
        );
    }
}
