//! Wire compatibility of the local cloud with the SDK crates the provider
//! uses: aws-sdk-chatbot and aws-sdk-supportapp parse its answers, and its
//! errors come back as the typed errors of the API models.

use aws_sdk_chatbot::operation::create_slack_channel_configuration::CreateSlackChannelConfigurationError;
use aws_sdk_chatbot::operation::delete_slack_channel_configuration::DeleteSlackChannelConfigurationError;
use aws_sdk_chatbot::operation::describe_slack_channel_configurations::DescribeSlackChannelConfigurationsError;
use aws_sdk_supportapp::operation::create_slack_channel_configuration::CreateSlackChannelConfigurationError as SupportChannelError;
use aws_sdk_supportapp::operation::put_account_alias::PutAccountAliasError;
use aws_sdk_supportapp::operation::register_slack_workspace_for_organization::RegisterSlackWorkspaceForOrganizationError;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn chatbot_answers_and_errors_are_typed() {
    let account = &cloud().members()[3];
    let chatbot = cloud().chatbot(account).await;
    let role = cloud().account(account)["chatbot_role_arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let name = unique("wire");
    let channel = unique_channel();
    let create = || {
        chatbot
            .create_slack_channel_configuration()
            .configuration_name(&name)
            .slack_team_id(cloud().seed["slack_team_id"].as_str().unwrap())
            .slack_channel_id(&channel)
            .iam_role_arn(&role)
    };

    let created = create().send().await.expect("a valid create succeeds");
    let arn = created
        .channel_configuration()
        .unwrap()
        .chat_configuration_arn()
        .to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:chatbot::{account}:chat-configuration/slack-channel/{name}")
    );

    // The same name on another channel: the name is taken.
    let conflict = create()
        .slack_channel_id(unique_channel())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            conflict,
            CreateSlackChannelConfigurationError::ConflictException(_)
        ),
        "{conflict:?}"
    );

    let invalid = chatbot
        .create_slack_channel_configuration()
        .configuration_name("has spaces")
        .slack_team_id("T0CHATOPS1")
        .slack_channel_id("C0WIRE1")
        .iam_role_arn(&role)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            invalid,
            CreateSlackChannelConfigurationError::InvalidParameterException(_)
        ),
        "{invalid:?}"
    );
    assert!(
        format!("{invalid:?}").contains("configurationName"),
        "the message names the member: {invalid:?}"
    );

    let missing = format!(
        "arn:aws:chatbot::{account}:chat-configuration/slack-channel/{}",
        unique("none")
    );
    let not_found = chatbot
        .delete_slack_channel_configuration()
        .chat_configuration_arn(&missing)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            not_found,
            DeleteSlackChannelConfigurationError::ResourceNotFoundException(_)
        ),
        "{not_found:?}"
    );

    let bad_filter = chatbot
        .describe_slack_channel_configurations()
        .max_results(1000)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            bad_filter,
            DescribeSlackChannelConfigurationsError::InvalidParameterException(_)
        ),
        "{bad_filter:?}"
    );

    chatbot
        .delete_slack_channel_configuration()
        .chat_configuration_arn(&arn)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn supportapp_answers_and_errors_are_typed() {
    let account = &cloud().members()[3];
    let supportapp = aws_sdk_supportapp::Client::new(&cloud().sdk_config_for(account).await);

    let invalid = supportapp
        .put_account_alias()
        .account_alias("not/valid!")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(invalid, PutAccountAliasError::ValidationException(_)),
        "{invalid:?}"
    );

    let channel = supportapp
        .create_slack_channel_configuration()
        .team_id("T0NOTREG1")
        .channel_id("C0WIRE2")
        .channel_role_arn(
            cloud().account(account)["supportapp_role_arn"]
                .as_str()
                .unwrap(),
        )
        .notify_on_case_severity(aws_sdk_supportapp::types::NotificationSeverityLevel::High)
        .notify_on_create_or_reopen_case(true)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(channel, SupportChannelError::ConflictException(_)),
        "a channel in an unregistered workspace is refused with a typed error: {channel:?}"
    );

    let outsider = cloud().seed["outside_account"].as_str().unwrap().to_owned();
    let outside = aws_sdk_supportapp::Client::new(&cloud().sdk_config_for(&outsider).await);
    let refused = outside
        .register_slack_workspace_for_organization()
        .team_id(cloud().seed["slack_team_id"].as_str().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            refused,
            RegisterSlackWorkspaceForOrganizationError::ConflictException(_)
        ),
        "outside an organization: {refused:?}"
    );

    let alias = unique("wire").replace('-', " ");
    let alias = &alias[..alias.len().min(30)];
    supportapp
        .put_account_alias()
        .account_alias(alias)
        .send()
        .await
        .expect("a valid alias is accepted");
    let read = supportapp.get_account_alias().send().await.unwrap();
    assert_eq!(read.account_alias(), Some(alias));
    supportapp.delete_account_alias().send().await.unwrap();
}
