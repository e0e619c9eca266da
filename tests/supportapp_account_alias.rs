//! Custom::SupportAppAccountAlias through the real binary: one alias per
//! account, created, renamed, kept from another stack's create, refused when
//! too long, and deleted (twice, as CloudFormation may). A local cloud of its
//! own (see support::supportapp).

use serde_json::json;

use crate::support::supportapp::SupportCloud;
use crate::support::*;

const ALIAS: &str = "Custom::SupportAppAccountAlias";

#[tokio::test(flavor = "multi_thread")]
async fn account_alias_create_update_conflict_and_delete() {
    let mut support = SupportCloud::start();
    let account = support.member(4);
    let client = support.client(&account).await;
    let alias = |client: &aws_sdk_supportapp::Client| {
        let client = client.clone();
        async move {
            client
                .get_account_alias()
                .send()
                .await
                .expect("reading the alias")
                .account_alias()
                .map(str::to_owned)
        }
    };
    let stack = Stack::new(&account, ALIAS);
    let props = json!({"AccountAlias": "payments prod"});
    let created = support.send(stack.create("Alias", &props)).await;
    assert_eq!(assert_success(&created), account);
    assert_eq!(
        created["Data"],
        json!({
            "AccountAlias": "payments prod",
            "AccountId": account,
            // As AWS::SupportApp::AccountAlias gives it.
            "AccountAliasResourceId": format!("AccountAlias_for_{account}"),
        })
    );
    assert_eq!(alias(&client).await.as_deref(), Some("payments prod"));
    // A retried Create finds its own alias.
    assert_success(&support.send(stack.create("Alias", &props)).await);

    let renamed = json!({"AccountAlias": "payments-prod-1"});
    assert_eq!(
        assert_success(
            &support
                .send(stack.update("Alias", &account, &renamed, &props))
                .await
        ),
        account
    );
    assert_eq!(alias(&client).await.as_deref(), Some("payments-prod-1"));

    let reason = assert_failed(
        &support
            .send(Stack::new(&account, ALIAS).create("Alias", &json!({"AccountAlias": "other"})))
            .await,
    );
    assert!(
        reason.starts_with("conflict:")
            && reason.contains("\"payments-prod-1\"")
            && reason.contains("one alias"),
        "{reason}"
    );
    assert_eq!(alias(&client).await.as_deref(), Some("payments-prod-1"));

    let reason = assert_failed(
        &support
            .send(stack.update(
                "Alias",
                &account,
                &json!({"AccountAlias": "x".repeat(31)}),
                &renamed,
            ))
            .await,
    );
    assert!(
        reason.starts_with("invalid property AccountAlias:") && reason.contains("longer than 30"),
        "{reason}"
    );

    assert_success(
        &support
            .send(stack.delete("Alias", &account, &renamed))
            .await,
    );
    assert_eq!(alias(&client).await, None);
    assert_success(
        &support
            .send(stack.delete("Alias", &account, &renamed))
            .await,
    );
}
