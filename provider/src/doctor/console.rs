//! The steps no API can do, as the AWS documentation words them, with the
//! console page to open; and the commands that fix what an API can.
//!
//! Sources:
//! - AWS Chatbot Administrator Guide, "Tutorial: Get started with Slack"
//!   (<https://docs.aws.amazon.com/chatbot/latest/adminguide/slack-setup.html>):
//!   open the console at <https://console.aws.amazon.com/chatbot/>, under
//!   Configure a chat client choose Slack, then Configure client, choose the
//!   workspace from the dropdown list at the top right, choose Allow.
//! - Same guide, "Step 1: Configure a Microsoft Teams client"
//!   (<https://docs.aws.amazon.com/chatbot/latest/adminguide/teams-setup.html#teams-client-setup>,
//!   linked from the API model's `ConfiguredTeam.TeamId`).
//! - Same guide, "Tutorial: Creating a Chatbot policy"
//!   (<https://docs.aws.amazon.com/chatbot/latest/adminguide/org-policy-tutorial.html>):
//!   Organization settings, Chatbot policies; a workspace a policy denies is
//!   `DISABLED` in DescribeSlackWorkspaces (API model, `SlackWorkspace.State`).
//! - AWS Support User Guide, "Authorize a Slack workspace"
//!   (<https://docs.aws.amazon.com/awssupport/latest/user/authorize-slack-workspace.html>):
//!   sign in to the AWS Support Center Console, choose Slack configuration,
//!   choose Authorize workspace, sign in to the workspace, choose Allow. The
//!   Support App API model (RegisterSlackWorkspaceForOrganization) gives the
//!   console address <https://console.aws.amazon.com/support/app> and the rest:
//!   the management account authorizes the workspace in the Support Center,
//!   then calls RegisterSlackWorkspaceForOrganization for the organization;
//!   member accounts then call the same API, no console step.

use super::{Step, Who};

/// The AWS Chatbot console (global: configurations have no region).
pub const CHATBOT_CONSOLE: &str = "https://console.aws.amazon.com/chatbot/";
/// The AWS Support Center console, where "Slack configuration" is.
pub const SUPPORT_CENTER_CONSOLE: &str = "https://console.aws.amazon.com/support/app";

const SLACK_SETUP: &str = "https://docs.aws.amazon.com/chatbot/latest/adminguide/slack-setup.html";
const TEAMS_SETUP: &str =
    "https://docs.aws.amazon.com/chatbot/latest/adminguide/teams-setup.html#teams-client-setup";
const CHATBOT_POLICY: &str =
    "https://docs.aws.amazon.com/chatbot/latest/adminguide/org-policy-tutorial.html";
const SUPPORT_AUTHORIZE: &str =
    "https://docs.aws.amazon.com/awssupport/latest/user/authorize-slack-workspace.html";

/// The region of the Support App commands: one that serves its API.
const SUPPORT_APP_REGION: &str = "us-east-1";

/// Authorize Slack workspace `team_id` for AWS Chatbot in `account_id` (a one-time OAuth).
pub fn authorize_chatbot_slack(account_id: &str, team_id: &str) -> Step {
    Step {
        who: Who::MemberAccountAdmin,
        account_id: account_id.to_owned(),
        title: format!("Authorize Slack workspace {team_id} for AWS Chatbot"),
        console_url: Some(CHATBOT_CONSOLE.to_owned()),
        instructions: vec![
            format!("Sign in to account {account_id} and open the AWS Chatbot console."),
            "Under Configure a chat client, choose Slack, then choose Configure client.".to_owned(),
            format!(
                "From the dropdown list at the top right, choose the Slack workspace {team_id}."
            ),
            "Choose Allow.".to_owned(),
        ],
        fix: None,
        source: Some(SLACK_SETUP.to_owned()),
    }
}

/// Configure Microsoft Teams team `team_id` of tenant `tenant_id` for AWS Chatbot.
pub fn configure_chatbot_teams(account_id: &str, team_id: &str, tenant_id: &str) -> Step {
    Step {
        who: Who::MemberAccountAdmin,
        account_id: account_id.to_owned(),
        title: format!(
            "Configure Microsoft Teams team {team_id} (tenant {tenant_id}) for AWS Chatbot"
        ),
        console_url: Some(CHATBOT_CONSOLE.to_owned()),
        instructions: vec![
            format!("Sign in to account {account_id} and open the AWS Chatbot console."),
            "Under Configure a chat client, choose Microsoft Teams, then choose Configure client."
                .to_owned(),
            "Paste the URL of a channel of that team, then choose Configure.".to_owned(),
            "On the Microsoft Teams authorization page, choose Accept.".to_owned(),
        ],
        fix: None,
        source: Some(TEAMS_SETUP.to_owned()),
    }
}

/// Allow a Slack workspace that the organization's Chatbot policy disables.
pub fn allow_in_chatbot_policy(management_account_id: &str, team_id: &str, reason: &str) -> Step {
    Step {
        who: Who::ManagementAccountAdmin,
        account_id: management_account_id.to_owned(),
        title: format!(
            "Allow Slack workspace {team_id} in the organization's Chatbot policy ({reason})"
        ),
        console_url: Some(CHATBOT_CONSOLE.to_owned()),
        instructions: vec![
            format!(
                "Sign in to the management account {management_account_id} and open the AWS Chatbot console."
            ),
            "In the left sidebar menu, choose Organization settings, then Chatbot policies."
                .to_owned(),
            format!(
                "Edit the policy that applies to the account so that it allows Slack workspace {team_id}."
            ),
        ],
        fix: None,
        source: Some(CHATBOT_POLICY.to_owned()),
    }
}

/// The command that registers `team_id` for the Support App in the account it runs in.
pub fn register_command(team_id: &str) -> String {
    format!(
        "aws support-app register-slack-workspace-for-organization --team-id {team_id} --region {SUPPORT_APP_REGION}"
    )
}

/// Authorize `team_id` for the Support App in the management account, then
/// register it for the organization.
pub fn authorize_support_app_slack(management_account_id: &str, team_id: &str) -> Step {
    Step {
        who: Who::ManagementAccountAdmin,
        account_id: management_account_id.to_owned(),
        title: format!(
            "Authorize Slack workspace {team_id} for the AWS Support App and register it for the organization"
        ),
        console_url: Some(SUPPORT_CENTER_CONSOLE.to_owned()),
        instructions: vec![
            format!(
                "Sign in to the management account {management_account_id}, open the AWS Support Center Console and choose Slack configuration."
            ),
            "On the Getting started page, choose Authorize workspace (Add workspace once one is authorized)."
                .to_owned(),
            "If you're not already signed in to Slack, enter your workspace name, and then choose Continue."
                .to_owned(),
            "On the page where AWS Support requests permission to access the workspace, choose Allow."
                .to_owned(),
            "Then register it for the organization, so that member accounts can add it (the command below)."
                .to_owned(),
        ],
        fix: Some(register_command(team_id)),
        source: Some(SUPPORT_AUTHORIZE.to_owned()),
    }
}

/// Register for the organization a workspace the management account authorized for itself only.
pub fn register_for_organization(management_account_id: &str, team_id: &str) -> Step {
    Step {
        who: Who::ManagementAccountAdmin,
        account_id: management_account_id.to_owned(),
        title: format!(
            "Register Slack workspace {team_id} for the organization, so that member accounts can add it to the AWS Support App"
        ),
        console_url: None,
        instructions: Vec::new(),
        fix: Some(register_command(team_id)),
        source: Some(SUPPORT_AUTHORIZE.to_owned()),
    }
}

/// Add `team_id` to the Support App in member account `account_id`: the
/// template's job, or a command there.
pub fn register_in_member(account_id: &str, team_id: &str) -> Step {
    Step {
        who: Who::PlatformTeam,
        account_id: account_id.to_owned(),
        title: format!(
            "Add Slack workspace {team_id} to the AWS Support App in account {account_id}"
        ),
        console_url: None,
        instructions: Vec::new(),
        fix: Some(format!(
            "add a Custom::SupportAppSlackWorkspace with TeamId {team_id} to the template (examples/supportapp-slack-workspace.yaml) and make the channels DependsOn it; or, in account {account_id}: {}",
            register_command(team_id)
        )),
        source: None,
    }
}
