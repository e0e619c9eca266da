//! Values known only after apply, settled against live ones, and a
//! template's properties as the service holds them: what a plan compares
//! with what is live.

use serde_json::{Map, Value};

use crate::change;
use crate::resources::Resource;
use crate::template::{self, contains_unknown, unknown_origin};

/// `properties` where each top-level value holding a value known only after
/// apply is replaced by the live one, when `stable` says its source does not
/// change and the live value fits around the unknown parts.
pub(super) fn settle<R: Resource>(
    properties: &Value,
    live: &Value,
    stable: impl Fn(&str) -> bool,
) -> Value {
    let Value::Object(map) = properties else {
        return properties.clone();
    };
    let settled: Map<String, Value> = map
        .iter()
        .map(|(name, value)| {
            let is_set = R::UNORDERED.contains(&name.as_str());
            let live_value = live.get(name);
            if contains_unknown(value) && stable(name) && fits(value, live_value, is_set) {
                (name.clone(), live_value.cloned().unwrap_or(Value::Null))
            } else {
                (name.clone(), value.clone())
            }
        })
        .collect();
    Value::Object(settled)
}

/// Whether `live` can be what `pattern` (with unknown parts) resolves to.
fn fits(pattern: &Value, live: Option<&Value>, is_set: bool) -> bool {
    if unknown_origin(pattern).is_some() {
        return live.is_some_and(|l| !l.is_null());
    }
    let Some(live) = live else {
        return false;
    };
    match (pattern, live) {
        (Value::Object(p), Value::Object(l)) => {
            p.len() == l.len() && p.iter().all(|(k, v)| fits(v, l.get(k), false))
        }
        (Value::Array(p), Value::Array(l)) if p.len() == l.len() => {
            if !is_set {
                return p.iter().zip(l).all(|(a, b)| fits(a, Some(b), false));
            }
            let mut remaining: Vec<&Value> = l.iter().collect();
            for known in p.iter().filter(|v| !contains_unknown(v)) {
                match remaining.iter().position(|r| fits(known, Some(r), false)) {
                    Some(at) => {
                        remaining.remove(at);
                    }
                    None => return false,
                }
            }
            true
        }
        (p, l) => scalar_text(p).is_some() && scalar_text(p) == scalar_text(l),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    template::parameters::scalar_text(value)
}

/// `properties` as the service holds them: without what it never returns
/// (write-only and provider-only properties), with its defaults for what a
/// template leaves out.
pub(super) fn as_live<R: Resource>(properties: &Value, partition: &str) -> Value {
    let mut properties = with_defaults::<R>(properties, partition);
    if let Some(map) = properties.as_object_mut() {
        for name in R::WRITE_ONLY.iter().chain(R::PROVIDER_ONLY) {
            map.remove(*name);
        }
    }
    properties
}

/// `properties` with the service's default for each property left out.
pub(super) fn with_defaults<R: Resource>(properties: &Value, partition: &str) -> Value {
    let mut properties = properties.clone();
    if let (Some(map), Value::Object(defaults)) =
        (properties.as_object_mut(), R::service_defaults(partition))
    {
        for (name, default) in defaults {
            let is_set = R::UNORDERED.contains(&name.as_str());
            if change::normalized(map.get(&name), is_set).is_none() {
                map.insert(name, default);
            }
        }
    }
    properties
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_values_fit_live_ones_around_their_known_parts() {
        let unknown = template::unknown("Topic", false);
        let live = json!(["arn:x", "arn:y"]);
        assert!(fits(&json!(["arn:y", unknown.clone()]), Some(&live), true));
        assert!(!fits(&json!(["arn:z", unknown.clone()]), Some(&live), true));
        assert!(!fits(
            &json!(["arn:y", unknown.clone()]),
            Some(&live),
            false
        ));
        assert!(fits(&json!([unknown.clone(), "arn:y"]), Some(&live), false));
        assert!(!fits(&unknown, None, false));
        assert!(fits(&json!("false"), Some(&json!(false)), false));
    }
}
