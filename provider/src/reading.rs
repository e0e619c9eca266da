//! Reading a resource's properties: the one way from CloudFormation's JSON
//! (strings for booleans and numbers, values known only at deploy time in a
//! template) to a resource type's properties struct.
//!
//! The request path reads a request's properties [`Reading::Strict`]ly and
//! the properties it got before [`Reading::Lenient`]ly; the plan reads a
//! template's [`Reading::WithUnknowns`]; `chatops validate` and the plan list
//! every problem with [`problems`]. ServiceToken never gets here: it is
//! dropped where a request or a template comes in.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::resources::Resource;
use crate::schema::TypeSchema;
use crate::template::{KNOWN_AFTER_APPLY, replace_unknowns, unknown_paths};

/// How properties are judged while they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Properties to act on: checked against the schema, the regions the
    /// service is served in, and the type's rules between properties.
    Strict,
    /// Properties that were valid once (an Update's old properties, a
    /// Delete's): read as they are, since a rule added later must not keep a
    /// resource from being deleted or changed back.
    Lenient,
    /// A template's properties before deploy: values known only then read as
    /// [`KNOWN_AFTER_APPLY`], nothing judged.
    WithUnknowns,
}

/// The properties `raw` read as type `R`.
pub fn read<R: Resource>(raw: &Value, reading: Reading) -> Result<R> {
    let mut value = coerced::<R>(raw);
    match reading {
        Reading::Strict => TypeSchema::cached::<R>().validate(&value)?,
        Reading::Lenient => {}
        Reading::WithUnknowns => {
            value = replace_unknowns(&value, &Value::String(KNOWN_AFTER_APPLY.to_owned()))
        }
    }
    let parsed: R = serde_json::from_value(value)
        .map_err(|e| Error::InvalidRequest(format!("{}: {e}", R::TYPE_NAME)))?;
    if reading == Reading::Strict {
        if let Some(region) = &parsed.common().region {
            R::SERVICE.check_region_property(region)?;
        }
        parsed.check()?;
    }
    Ok(parsed)
}

/// `raw` with each string turned into the boolean or number the schema of
/// `R` wants there, as CloudFormation sends every scalar as a string.
pub fn coerced<R: Resource>(raw: &Value) -> Value {
    let mut value = raw.clone();
    TypeSchema::cached::<R>().coerce(&mut value);
    value
}

/// Every problem of a template's `properties` for type `R`, each as
/// `path: problem`, with the checks of [`Reading::Strict`]; values known
/// only after apply are not judged.
pub fn problems<R: Resource>(properties: &Value) -> Vec<String> {
    let schema = TypeSchema::cached::<R>();
    let coerced = coerced::<R>(properties);
    let unknown = unknown_paths(&coerced);
    let under_unknown = |path: &str| {
        unknown
            .iter()
            .any(|u| path == u || path.starts_with(&format!("{u}/")))
    };
    let problems: Vec<String> = schema
        .problems(&coerced)
        .into_iter()
        .filter(|(path, _)| !under_unknown(path))
        .map(|(path, problem)| format!("{path}: {problem}"))
        .collect();
    if !problems.is_empty() {
        return problems;
    }
    if let Some(Value::String(region)) = coerced.get("Region") {
        if !under_unknown("Region") {
            if let Err(Error::InvalidProperty { property, problem }) =
                R::SERVICE.check_region_property(region)
            {
                return vec![format!("{property}: {problem}")];
            }
        }
    }
    // Valid: the rules between properties apply as on deploy, unless they
    // would read a value known only then (which then fails to deserialize:
    // only a string property can hold the placeholder).
    match read::<R>(&coerced, Reading::WithUnknowns).map(|parsed| parsed.check()) {
        Ok(Err(Error::InvalidProperty { property, problem })) => {
            vec![format!("{property}: {problem}")]
        }
        Ok(Err(other)) => vec![format!(": {other}")],
        _ => problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::supportapp_slack_channel::SupportSlackChannel;
    use serde_json::json;

    fn channel(severity: &str, notify: Value) -> Value {
        json!({
            "TeamId": "T0123456789", "ChannelId": "C0123456789",
            "ChannelRoleArn": "arn:aws:iam::100000000001:role/R",
            "NotifyOnCaseSeverity": severity, "NotifyOnCreateOrReopenCase": notify,
        })
    }

    #[test]
    fn strict_coerces_and_judges_lenient_only_reads() {
        // CloudFormation sends booleans as strings.
        let parsed: SupportSlackChannel =
            read(&channel("all", json!("true")), Reading::Strict).unwrap();
        assert_eq!(
            serde_json::to_value(&parsed).unwrap()["NotifyOnCreateOrReopenCase"],
            json!(true)
        );
        // A severity needs a notify flag: a rule between properties.
        let invalid = channel("high", json!("false"));
        match read::<SupportSlackChannel>(&invalid, Reading::Strict) {
            Err(Error::InvalidProperty { property, .. }) => {
                assert_eq!(property, "NotifyOnCaseSeverity")
            }
            other => panic!("{other:?}"),
        }
        // What was valid once is read back as it is, to be deleted or changed back.
        read::<SupportSlackChannel>(&invalid, Reading::Lenient).unwrap();
    }

    #[test]
    fn unknowns_read_as_the_placeholder_and_are_not_judged() {
        let properties = channel("all", json!(true));
        let mut with_unknown = properties.clone();
        with_unknown["ChannelId"] = crate::template::unknown("Channel", false);
        let parsed: SupportSlackChannel = read(&with_unknown, Reading::WithUnknowns).unwrap();
        assert!(
            serde_json::to_value(&parsed).unwrap()["ChannelId"]
                .as_str()
                .is_some_and(|id| id == KNOWN_AFTER_APPLY)
        );
        assert!(problems::<SupportSlackChannel>(&with_unknown).is_empty());
        let bad = channel("sometimes", json!(true));
        let found = problems::<SupportSlackChannel>(&bad);
        assert!(
            found.len() == 1 && found[0].starts_with("NotifyOnCaseSeverity: "),
            "{found:?}"
        );
    }
}
