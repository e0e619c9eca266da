//! What a change of properties means: nothing, an update in place, or a
//! replacement and which properties force it. The Lambda's Update and
//! `chatops plan` both ask this one function, so a preview never disagrees
//! with a deploy.

use serde_json::{Map, Value};

use crate::accounts::Accounts;
use crate::error::{Error, Result};
use crate::ownership::Owner;
use crate::reading;
use crate::resources::Resource;

/// Properties that every type treats as create-only: moving a resource to
/// another account or region is always a new resource.
pub const COMMON_CREATE_ONLY: &[&str] = &["AccountId", "Region"];

/// The meaning of going from old to new properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Old and new are equal (lists whose order does not matter compared as sets).
    NoChange,
    /// The resource is updated where it is.
    UpdateInPlace {
        /// The properties that differ.
        changed: Vec<String>,
    },
    /// A create-only property differs: a new resource replaces the old one.
    Replacement {
        /// The create-only properties that differ, which force the replacement.
        reasons: Vec<String>,
        /// Every property that differs.
        changed: Vec<String>,
    },
}

impl Change {
    /// The properties that differ, whatever the kind of change.
    pub fn changed(&self) -> &[String] {
        match self {
            Change::NoChange => &[],
            Change::UpdateInPlace { changed } | Change::Replacement { changed, .. } => changed,
        }
    }
}

/// Decides what going from `old` to `new` means for a type whose create-only
/// properties are `create_only` (besides [`COMMON_CREATE_ONLY`]) and whose
/// `unordered` list properties compare as sets.
pub fn decide(old: &Value, new: &Value, create_only: &[&str], unordered: &[&str]) -> Change {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    let changed: Vec<String> = names
        .into_iter()
        // Adopt steers a Create only: changing it later changes nothing.
        .filter(|name| name.as_str() != crate::properties::ADOPT)
        .filter(|name| {
            let is_set = unordered.contains(&name.as_str());
            normalized(old.get(*name), is_set) != normalized(new.get(*name), is_set)
        })
        .cloned()
        .collect();
    if changed.is_empty() {
        return Change::NoChange;
    }
    let reasons: Vec<String> = changed
        .iter()
        .filter(|name| {
            COMMON_CREATE_ONLY.contains(&name.as_str()) || create_only.contains(&name.as_str())
        })
        .cloned()
        .collect();
    if reasons.is_empty() {
        Change::UpdateInPlace { changed }
    } else {
        Change::Replacement { reasons, changed }
    }
}

/// A value in a form where equal meaning compares equal: absent, null and an
/// empty list are the same, and a set-like list is sorted.
pub fn normalized(value: Option<&Value>, is_set: bool) -> Option<Value> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if items.is_empty() => None,
        Some(Value::Array(items)) if is_set => {
            let mut sorted = items.clone();
            sorted.sort_by_key(|item| item.to_string());
            sorted.dedup();
            Some(Value::Array(sorted))
        }
        Some(other) => Some(other.clone()),
    }
}

/// The change from `old` to `new` properties as the deploy sees it: both
/// coerced, with AccountId and Region defaulted so that spelling out a default
/// is no change.
pub fn decide_for<R: Resource>(
    accounts: &Accounts,
    owner: &Owner,
    old: &Value,
    new: &Value,
) -> Result<Change> {
    let default = accounts.default_target(&owner.stack_id, R::SERVICE)?;
    let normalize = |raw: &Value| {
        let mut value = reading::coerced::<R>(raw);
        if let Some(map) = value.as_object_mut() {
            for (name, default) in [
                ("AccountId", &default.account_id),
                ("Region", &default.region),
            ] {
                map.entry(name)
                    .or_insert_with(|| Value::String(default.clone()));
            }
        }
        value
    };
    Ok(decide(
        &normalize(old),
        &normalize(new),
        R::CREATE_ONLY,
        R::UNORDERED,
    ))
}

/// A replacement must make a new resource before CloudFormation deletes the
/// old one, so it cannot keep the old one's name in the same account, nor
/// anything else the service allows once per account (its exclusive key).
pub fn refuse_replacement_with_same_key<R: Resource>(
    accounts: &Accounts,
    owner: &Owner,
    old: &R,
    new: &R,
    reasons: &[String],
) -> Result<()> {
    let old_target = accounts.target(&owner.stack_id, old.common(), R::SERVICE)?;
    let new_target = accounts.target(&owner.stack_id, new.common(), R::SERVICE)?;
    if old.natural_key() == new.natural_key() && old_target.account_id == new_target.account_id {
        return Err(Error::invalid_property(
            reasons.join(", "),
            format!(
                "changing {} replaces the {} {:?}, and the replacement is made before the old one is \
                 deleted, so it needs a new name: change the name too (or delete and re-add the resource)",
                reasons.join(" and "),
                R::TYPE_NAME,
                new.natural_key()
            ),
        ));
    }
    let same_account = old_target.account_id == new_target.account_id;
    if let (Some((old_key, property)), Some((new_key, _))) =
        (old.exclusive_key(), new.exclusive_key())
        && same_account
        && old_key == new_key
    {
        return Err(Error::invalid_property(
            reasons.join(", "),
            format!(
                "changing {} replaces the {}, and the replacement is made before the old one is \
                 deleted, but the service allows only one per {property} ({new_key}) in an account: \
                 change {property} too (or delete and re-add the resource)",
                reasons.join(" and "),
                R::TYPE_NAME,
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CREATE_ONLY: &[&str] = &["ConfigurationName"];
    const UNORDERED: &[&str] = &["SnsTopicArns"];

    #[test]
    fn equal_properties_are_no_change() {
        let props = json!({"ConfigurationName": "a", "SnsTopicArns": ["x", "y"]});
        assert_eq!(
            decide(&props, &props, CREATE_ONLY, UNORDERED),
            Change::NoChange
        );
    }

    #[test]
    fn set_like_lists_ignore_order_and_ordered_lists_do_not() {
        let old = json!({"SnsTopicArns": ["x", "y"], "Other": [1, 2]});
        let new = json!({"SnsTopicArns": ["y", "x"], "Other": [1, 2]});
        assert_eq!(decide(&old, &new, CREATE_ONLY, UNORDERED), Change::NoChange);
        let new = json!({"SnsTopicArns": ["y", "x"], "Other": [2, 1]});
        assert_eq!(
            decide(&old, &new, CREATE_ONLY, UNORDERED),
            Change::UpdateInPlace {
                changed: vec!["Other".into()]
            }
        );
    }

    #[test]
    fn absent_null_and_empty_list_mean_the_same() {
        let old = json!({"SnsTopicArns": [], "LoggingLevel": null});
        let new = json!({});
        assert_eq!(decide(&old, &new, CREATE_ONLY, UNORDERED), Change::NoChange);
    }

    #[test]
    fn create_only_change_is_a_replacement_naming_its_reason() {
        let old = json!({"ConfigurationName": "a", "LoggingLevel": "ERROR"});
        let new = json!({"ConfigurationName": "b", "LoggingLevel": "INFO"});
        assert_eq!(
            decide(&old, &new, CREATE_ONLY, UNORDERED),
            Change::Replacement {
                reasons: vec!["ConfigurationName".into()],
                changed: vec!["ConfigurationName".into(), "LoggingLevel".into()],
            }
        );
    }

    #[test]
    fn account_and_region_always_replace() {
        let old = json!({"AccountId": "100000000001"});
        let new = json!({"AccountId": "100000000002"});
        assert!(matches!(
            decide(&old, &new, &[], &[]),
            Change::Replacement { .. }
        ));
    }

    #[test]
    fn adopt_is_never_a_change() {
        let old = json!({"ConfigurationName": "a"});
        let new = json!({"ConfigurationName": "a", "Adopt": "true"});
        assert_eq!(decide(&old, &new, CREATE_ONLY, &[]), Change::NoChange);
        assert_eq!(decide(&new, &old, CREATE_ONLY, &[]), Change::NoChange);
    }
}
