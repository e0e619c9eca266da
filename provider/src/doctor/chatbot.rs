//! AWS Chatbot in one account: the Slack workspaces authorized
//! (DescribeSlackWorkspaces) and Microsoft Teams teams configured
//! (ListMicrosoftTeamsConfiguredTeams), against those the template names.
//! Both are one-time console steps with no API: a missing one is a step for
//! the account's admin. A workspace or team the organization's Chatbot
//! policy denies is listed `DISABLED` (API model, `SlackWorkspace.State`).

use super::{Check, Needs, console};
use crate::accounts::AccountContext;
use crate::error::Result;
use crate::resources::chatbot;

const AREA: &str = "chatbot";

struct Authorized {
    id: String,
    tenant: Option<String>,
    disabled: Option<String>,
}

/// Adds the Chatbot checks of the account to `checks`.
pub async fn check(
    ctx: &AccountContext,
    needs: Option<&Needs>,
    checks: &mut Vec<Check>,
) -> Result<()> {
    let workspaces = slack_workspaces(ctx).await?;
    let teams = teams(ctx).await?;
    let Some(needs) = needs else {
        checks.push(Check::note(
            AREA,
            "Slack workspaces",
            listed(&workspaces, "none authorized"),
        ));
        checks.push(Check::note(
            AREA,
            "Microsoft Teams teams",
            listed(&teams, "none configured"),
        ));
        return Ok(());
    };
    let management = ctx.management_account_id().await?;
    for (team_id, users) in &needs.slack_workspaces {
        let subject = format!("Slack workspace {team_id}");
        let found = workspaces.iter().find(|w| &w.id == team_id);
        checks.push(match found {
            Some(Authorized {
                disabled: Some(reason),
                ..
            }) => Check::blocked(
                AREA,
                subject,
                format!("disabled by the organization's Chatbot policy: {reason}"),
                console::allow_in_chatbot_policy(&management, team_id, reason),
            ),
            Some(_) => Check::ready(
                AREA,
                subject,
                format!("authorized (used by {})", users.join(", ")),
            ),
            None => Check::blocked(
                AREA,
                subject,
                format!(
                    "not authorized in this account (used by {})",
                    users.join(", ")
                ),
                console::authorize_chatbot_slack(ctx.account_id(), team_id),
            ),
        });
    }
    for ((team_id, tenant_id), users) in &needs.teams {
        let subject = format!("Teams team {team_id}");
        let found = teams.iter().find(|t| {
            t.id.eq_ignore_ascii_case(team_id)
                && t.tenant
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(tenant_id))
        });
        checks.push(match found {
            Some(Authorized {
                disabled: Some(reason),
                ..
            }) => Check::blocked(
                AREA,
                subject,
                format!("disabled by the organization's Chatbot policy: {reason}"),
                console::allow_in_chatbot_policy(&management, team_id, reason),
            ),
            Some(_) => Check::ready(
                AREA,
                subject,
                format!("configured (used by {})", users.join(", ")),
            ),
            None => Check::blocked(
                AREA,
                subject,
                format!(
                    "not configured in this account for tenant {tenant_id} (used by {})",
                    users.join(", ")
                ),
                console::configure_chatbot_teams(ctx.account_id(), team_id, tenant_id),
            ),
        });
    }
    Ok(())
}

fn listed(items: &[Authorized], none: &str) -> String {
    if items.is_empty() {
        return none.to_owned();
    }
    items
        .iter()
        .map(|a| match &a.disabled {
            Some(_) => format!("{} (disabled by policy)", a.id),
            None => a.id.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn disabled(state: Option<&str>, reason: Option<&str>) -> Option<String> {
    (state == Some("DISABLED")).then(|| reason.unwrap_or("no reason given").to_owned())
}

async fn slack_workspaces(ctx: &AccountContext) -> Result<Vec<Authorized>> {
    Ok(chatbot::slack_workspaces(ctx)
        .await?
        .iter()
        .map(|w| Authorized {
            id: w.slack_team_id().to_owned(),
            tenant: None,
            disabled: disabled(w.state(), w.state_reason()),
        })
        .collect())
}

async fn teams(ctx: &AccountContext) -> Result<Vec<Authorized>> {
    Ok(chatbot::configured_teams(ctx)
        .await?
        .iter()
        .map(|t| Authorized {
            id: t.team_id().to_owned(),
            tenant: Some(t.tenant_id().to_owned()),
            disabled: disabled(t.state(), t.state_reason()),
        })
        .collect())
}
