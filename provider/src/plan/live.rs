//! Where a plan reads live resources from: the accounts themselves (through
//! the provider's execution role), or, in tests, a fixed list.

use std::collections::HashMap;
use std::future::Future;

use tokio::sync::Mutex;

use crate::accounts::{AccountContext, Accounts, Target};
use crate::error::Result;
use crate::resources::{LiveResource, Resource};

/// Reads every live resource of a type in one account and region.
pub trait LiveSource: Send + Sync {
    /// The live resources of type `R` in `target`.
    fn list<R: Resource>(
        &self,
        target: &Target,
    ) -> impl Future<Output = Result<Vec<LiveResource>>> + Send;
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
    async fn list<R: Resource>(&self, target: &Target) -> Result<Vec<LiveResource>> {
        let ctx = self.context(target).await?;
        R::list(&ctx).await
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
    async fn list<R: Resource>(&self, target: &Target) -> Result<Vec<LiveResource>> {
        if let Some(message) = self.refusals.get(&target.account_id) {
            return Err(crate::error::Error::AccessDenied(message.clone()));
        }
        Ok(self
            .resources
            .get(&(target.account_id.clone(), R::TYPE_NAME.to_owned()))
            .cloned()
            .unwrap_or_default())
    }
}
