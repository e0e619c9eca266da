//! Where a plan reads live resources from: the accounts themselves (through
//! the provider's execution role), or, in tests, a fixed list.

use std::collections::HashMap;

use futures::future::BoxFuture;
use tokio::sync::Mutex;

use crate::accounts::{AccountContext, Accounts, Target};
use crate::error::Result;
use crate::registry::ResourceType;
use crate::resources::LiveResource;

/// Reads every live resource of a type in one account and region.
pub trait LiveSource: Send + Sync {
    /// The live resources of `resource_type` in `target`.
    fn list<'a>(
        &'a self,
        resource_type: &'static dyn ResourceType,
        target: &'a Target,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>>>;
}

/// Reads the accounts through the provider: assumes the execution role once
/// per account and region, then calls each type's `list`.
pub struct AccountsLive<'a> {
    accounts: &'a Accounts,
    session: String,
    contexts: Mutex<HashMap<Target, AccountContext>>,
}

impl<'a> AccountsLive<'a> {
    /// Reads through `provider`; `session` names the plan in CloudTrail.
    pub fn new(accounts: &'a Accounts, session: &str) -> Self {
        AccountsLive {
            accounts,
            session: session.to_owned(),
            contexts: Mutex::new(HashMap::new()),
        }
    }

    async fn context(&self, target: &Target) -> Result<AccountContext> {
        if let Some(ctx) = self.contexts.lock().await.get(target) {
            return Ok(ctx.clone());
        }
        let ctx = self.accounts.account_context(target, &self.session).await?;
        self.contexts
            .lock()
            .await
            .insert(target.clone(), ctx.clone());
        Ok(ctx)
    }
}

impl LiveSource for AccountsLive<'_> {
    fn list<'a>(
        &'a self,
        resource_type: &'static dyn ResourceType,
        target: &'a Target,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>>> {
        Box::pin(async move {
            let ctx = self.context(target).await?;
            resource_type.list(&ctx).await
        })
    }
}

/// Live resources given up front, by type name: for tests and offline checks.
#[derive(Debug, Clone, Default)]
pub struct FixedLive {
    resources: HashMap<(String, String), Vec<LiveResource>>,
    refusals: HashMap<String, String>,
}

impl FixedLive {
    /// No live resources at all.
    pub fn new() -> Self {
        FixedLive::default()
    }

    /// Adds `resource` of `type_name` in `account_id`.
    pub fn with(mut self, account_id: &str, type_name: &str, resource: LiveResource) -> Self {
        self.resources
            .entry((account_id.to_owned(), type_name.to_owned()))
            .or_default()
            .push(resource);
        self
    }

    /// Makes every read in `account_id` fail with access denied and `message`.
    pub fn refusing(mut self, account_id: &str, message: &str) -> Self {
        self.refusals
            .insert(account_id.to_owned(), message.to_owned());
        self
    }
}

impl LiveSource for FixedLive {
    fn list<'a>(
        &'a self,
        resource_type: &'static dyn ResourceType,
        target: &'a Target,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>>> {
        let found = match self.refusals.get(&target.account_id) {
            Some(message) => Err(crate::error::Error::AccessDenied(message.clone())),
            None => Ok(self
                .resources
                .get(&(target.account_id.clone(), resource_type.name().to_owned()))
                .cloned()
                .unwrap_or_default()),
        };
        Box::pin(std::future::ready(found))
    }
}
