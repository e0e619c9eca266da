//! Which live resource a template's resource is: the one its stack tagged
//! with its logical id, else the one with its natural key.

use super::{LiveAt, Prepared, Scope};
use crate::accounts::Target;
use crate::ownership::Owned;
use crate::resources::Resource;

/// Who owns a live resource of type `R`. A type without ownership tags (the
/// Support App) cannot say: the plan compares it with the template, as the
/// deploy, which acts on its natural key, would.
pub(super) fn owner<R: Resource>(scope: &Scope<'_>, tags: &[crate::properties::Tag]) -> Owned {
    if R::OWNERSHIP_TAGS {
        scope.ownership.owner_of(tags)
    } else {
        Owned::Unknown
    }
}

/// The live resource that is `n` now: the one its stack tagged with its
/// logical id, else the one with its natural key (or the deployed one's).
pub(super) fn find_current<R: Resource>(
    scope: &Scope<'_>,
    n: &Prepared<R>,
    d: Option<&Prepared<R>>,
    live: &[LiveAt],
    claimed: &[bool],
) -> Option<usize> {
    let free = |index: &usize| !claimed[*index];
    let indices = || (0..live.len()).filter(free);
    let ours = |index: &usize| {
        owner::<R>(scope, &live[*index].resource.tags) == Owned::Ours(n.logical_id.clone())
    };
    let keyed = |key: &Option<String>, target: &Option<Target>, index: &usize| {
        let item = &live[*index];
        key.as_deref() == Some(item.resource.natural_key.as_str())
            && target.as_ref() == Some(&item.target)
    };
    indices()
        .find(|i| ours(i) && keyed(&n.key, &n.target, i))
        .or_else(|| indices().find(ours))
        .or_else(|| indices().find(|i| keyed(&n.key, &n.target, i)))
        .or_else(|| d.and_then(|d| indices().find(|i| keyed(&d.key, &d.target, i))))
}
