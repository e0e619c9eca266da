//! Each property change as a plan shows it: set-like lists compared as
//! sets, and secrets (write-only properties, NoEcho parameter values) never
//! shown.

use serde_json::Value;

use super::Scope;
use crate::change;
use crate::plan::{PropertyChange, Shown};
use crate::resources::Resource;
use crate::template::{self, KNOWN_AFTER_APPLY, contains_unknown, unknown_origin};

/// The changes of `names` from `before` to `after`, leaving out those that
/// only look different (a set in another order), never showing secrets.
pub(super) fn property_changes<R: Resource>(
    scope: &Scope<'_>,
    names: &[String],
    before: &Value,
    after: &Value,
    reasons: &[String],
) -> Vec<PropertyChange> {
    names
        .iter()
        .filter_map(|name| {
            let is_set = R::UNORDERED.contains(&name.as_str());
            let old = before.get(name);
            let new = after.get(name);
            let write_only = R::WRITE_ONLY.contains(&name.as_str());
            if !write_only && change::normalized(old, is_set) == change::normalized(new, is_set) {
                return None;
            }
            Some(PropertyChange {
                name: name.clone(),
                before: shown::<R>(scope, name, old),
                after: shown::<R>(scope, name, new),
                forces_replacement: reasons.contains(name),
            })
        })
        .collect()
}

/// How a value may be shown: secrets never are.
fn shown<R: Resource>(scope: &Scope<'_>, name: &str, value: Option<&Value>) -> Shown {
    let is_set = R::UNORDERED.contains(&name);
    let Some(value) = change::normalized(value, is_set) else {
        return Shown::Absent;
    };
    if R::WRITE_ONLY.contains(&name) || holds_secret(&value, scope.secrets) {
        return Shown::Sensitive;
    }
    if unknown_origin(&value).is_some() {
        return Shown::KnownAfterApply;
    }
    if contains_unknown(&value) {
        let placeholder = Value::String(KNOWN_AFTER_APPLY.to_owned());
        return Shown::Value(template::replace_unknowns(&value, &placeholder));
    }
    Shown::Value(value)
}

fn holds_secret(value: &Value, secrets: &[String]) -> bool {
    match value {
        Value::String(text) => secrets
            .iter()
            .any(|s| !s.is_empty() && text.contains(s.as_str())),
        Value::Array(items) => items.iter().any(|v| holds_secret(v, secrets)),
        Value::Object(map) => map.values().any(|v| holds_secret(v, secrets)),
        _ => false,
    }
}
