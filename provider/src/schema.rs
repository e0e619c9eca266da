//! JSON Schemas of the resource types: generated from the Rust property types
//! by schemars, used to coerce CloudFormation's strings into booleans and
//! numbers, and to validate every request with jsonschema.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::resources::Resource;

/// A resource type's schema with its compiled validator.
pub struct TypeSchema {
    type_name: &'static str,
    schema: Value,
    validator: jsonschema::Validator,
    write_only: &'static [&'static str],
}

/// The JSON Schema of resource type `R`, as checked in under `schemas/`.
///
/// Besides plain JSON Schema it carries the CloudFormation registry keywords
/// `createOnlyProperties` and `writeOnlyProperties`, so a reader sees which
/// changes replace the resource and which values are never read back.
pub fn schema_for<R: Resource>() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    // Inline nested types: a reader sees each property whole, without $defs.
    settings.inline_subschemas = true;
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<R>()
        .to_value();
    without_null(&mut schema);
    let object = schema
        .as_object_mut()
        .expect("a struct's schema is an object");
    object.insert("title".into(), json!(R::TYPE_NAME));
    // Flattened common properties defeat serde's deny_unknown_fields: say it here.
    object.insert("additionalProperties".into(), json!(false));
    let pointer = |name: &&str| format!("/properties/{name}");
    let mut create_only: Vec<String> = ["AccountId", "Region"].iter().map(pointer).collect();
    create_only.extend(R::CREATE_ONLY.iter().map(pointer));
    object.insert("createOnlyProperties".into(), json!(create_only));
    // Not a JSON Schema keyword: what `Fn::GetAtt` reads, for readers and
    // for cfn-lint (cfn-lint/chatops_rules.py).
    object.insert("attributes".into(), json!(R::ATTRIBUTES));
    if !R::WRITE_ONLY.is_empty() {
        let write_only: Vec<String> = R::WRITE_ONLY.iter().map(pointer).collect();
        object.insert("writeOnlyProperties".into(), json!(write_only));
    }
    schema
}

impl TypeSchema {
    /// Compiles the schema of `R`.
    pub fn of<R: Resource>() -> Self {
        let schema = schema_for::<R>();
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("generated schemas are valid JSON Schema");
        TypeSchema {
            type_name: R::TYPE_NAME,
            schema,
            validator,
            write_only: R::WRITE_ONLY,
        }
    }

    /// The compiled schema of `R`, compiled once per process: a warm Lambda
    /// must not pay for regex compilation on every request.
    pub fn cached<R: Resource>() -> Arc<TypeSchema> {
        static CACHE: LazyLock<RwLock<HashMap<&'static str, Arc<TypeSchema>>>> =
            LazyLock::new(Default::default);
        if let Some(found) = CACHE.read().ok().and_then(|c| c.get(R::TYPE_NAME).cloned()) {
            return found;
        }
        let compiled = Arc::new(TypeSchema::of::<R>());
        if let Ok(mut cache) = CACHE.write() {
            cache.insert(R::TYPE_NAME, compiled.clone());
        }
        compiled
    }

    /// Turns CloudFormation's string-typed booleans and numbers into the types the schema wants.
    pub fn coerce(&self, properties: &mut Value) {
        coerce(properties, &self.schema, &self.schema);
    }

    /// Every problem of `properties`, as (property path, what is wrong and what
    /// it expects) pairs: what `chatops validate` reports one by one.
    pub fn problems(&self, properties: &Value) -> Vec<(String, String)> {
        self.validator
            .iter_errors(properties)
            .map(|error| self.describe(&error))
            .collect()
    }

    /// Checks `properties` against the schema; the error names each bad property,
    /// what is wrong with it and what the property expects.
    pub fn validate(&self, properties: &Value) -> Result<()> {
        let mut problems = self
            .validator
            .iter_errors(properties)
            .map(|error| self.describe(&error));
        let Some((property, problem)) = problems.next() else {
            return Ok(());
        };
        let rest: Vec<String> = problems.map(|(p, m)| format!("{p}: {m}")).collect();
        let problem = if rest.is_empty() {
            problem
        } else {
            format!("{problem}; also {}", rest.join("; "))
        };
        Err(Error::invalid_property(property, problem))
    }

    fn describe(&self, error: &jsonschema::ValidationError<'_>) -> (String, String) {
        use jsonschema::error::ValidationErrorKind as Kind;
        let path: Vec<String> = error
            .instance_path()
            .as_str()
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let joined = |extra: &str| {
            let mut all = path.clone();
            all.push(extra.to_owned());
            all.join("/")
        };
        match error.kind() {
            Kind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let hint = self.description_at(&[path.clone(), vec![name.to_owned()]].concat());
                (
                    joined(name),
                    format!("is required for {}; set it to {hint}", self.type_name),
                )
            }
            Kind::AdditionalProperties { unexpected } => {
                let known = self.known_properties(&path);
                let name = unexpected.first().cloned().unwrap_or_default();
                let mut problem = format!("is not a property of {}", self.type_name);
                if let Some(close) = closest(&name, &known) {
                    problem.push_str(&format!("; did you mean {close}?"));
                }
                problem.push_str(&format!(" remove it or use one of: {}", known.join(", ")));
                if unexpected.len() > 1 {
                    problem.push_str(&format!(" (also unknown: {})", unexpected[1..].join(", ")));
                }
                (joined(&name), problem)
            }
            _ => {
                let sensitive = path
                    .first()
                    .is_some_and(|top| self.write_only.contains(&top.as_str()));
                let message = if sensitive {
                    error.masked_with("the value (sensitive)").to_string()
                } else {
                    error.to_string()
                };
                let hint = self.description_at(&path);
                (path.join("/"), format!("{message}; expected {hint}"))
            }
        }
    }

    /// The `///` doc of the field at `path`, which says what a valid value is.
    fn description_at(&self, path: &[String]) -> String {
        let mut schema = &self.schema;
        for segment in path {
            schema = match schema.get("properties").and_then(|p| p.get(segment)) {
                Some(next) => next,
                None => match schema.get("items") {
                    Some(items) => items,
                    None => return "a valid value (see the type's schema)".into(),
                },
            };
        }
        schema
            .get("description")
            .and_then(Value::as_str)
            .map(|d| lowercase_first(d.trim_end_matches('.')))
            .unwrap_or_else(|| "a valid value (see the type's schema)".into())
    }

    fn known_properties(&self, path: &[String]) -> Vec<String> {
        let mut schema = &self.schema;
        for segment in path {
            schema = resolve(schema, &self.schema);
            schema = schema
                .get("properties")
                .and_then(|p| p.get(segment))
                .or_else(|| schema.get("items"))
                .unwrap_or(&Value::Null);
        }
        resolve(schema, &self.schema)
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// Removes the `null` that schemars adds for `Option`: CloudFormation leaves
/// an unset property out (AWS::NoValue) and never sends null, and without it a
/// bad value gets a plain message instead of an `anyOf` one.
fn without_null(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        if let Some(items) = schema.as_array_mut() {
            items.iter_mut().for_each(without_null);
        }
        return;
    };
    if let Some(Value::Array(branches)) = object.get("anyOf") {
        let non_null: Vec<Value> = branches
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
            .cloned()
            .collect();
        if let [only] = non_null.as_slice() {
            object.remove("anyOf");
            if let Some(inner) = only.as_object() {
                for (key, value) in inner {
                    object.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [single] = types.as_slice() {
            let single = single.clone();
            object.insert("type".into(), single);
        }
    }
    if let Some(Value::Array(options)) = object.get_mut("enum") {
        options.retain(|o| !o.is_null());
    }
    object.values_mut().for_each(without_null);
}

/// Follows a local `$ref` (and the non-null branch of an optional's `anyOf`).
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer));
        return target.map_or(schema, |t| resolve(t, root));
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let non_null = branches
            .iter()
            .find(|b| b.get("type").and_then(Value::as_str) != Some("null"));
        if let Some(branch) = non_null {
            return resolve(branch, root);
        }
    }
    schema
}

fn types_of(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn coerce(value: &mut Value, schema: &Value, root: &Value) {
    let schema = resolve(schema, root);
    let types = types_of(schema);
    match value {
        Value::String(text) if !types.contains(&"string") => {
            if let Some(coerced) = coerce_scalar(text, &types) {
                *value = coerced;
            }
        }
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                coerce_object(map, properties, root);
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    coerce(item, item_schema, root);
                }
            }
        }
        _ => {}
    }
}

fn coerce_object(map: &mut Map<String, Value>, properties: &Map<String, Value>, root: &Value) {
    for (name, value) in map.iter_mut() {
        if let Some(schema) = properties.get(name) {
            coerce(value, schema, root);
        }
    }
}

fn coerce_scalar(text: &str, types: &[&str]) -> Option<Value> {
    if types.contains(&"boolean") {
        match text.to_ascii_lowercase().as_str() {
            "true" => return Some(Value::Bool(true)),
            "false" => return Some(Value::Bool(false)),
            _ => {}
        }
    }
    if types.contains(&"integer") {
        if let Ok(n) = text.trim().parse::<i64>() {
            return Some(json!(n));
        }
    }
    if types.contains(&"number") {
        if let Ok(n) = text.trim().parse::<f64>() {
            return serde_json::Number::from_f64(n).map(Value::Number);
        }
    }
    None
}

/// The known name nearest to a misspelt one, when it is near enough to be a typo.
fn closest<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| {
            (
                strsim::levenshtein(&name.to_lowercase(), &k.to_lowercase()),
                k,
            )
        })
        .filter(|(distance, k)| *distance <= 3.max(k.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k.as_str())
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_coerce_only_to_wanted_types() {
        assert_eq!(coerce_scalar("TRUE", &["boolean"]), Some(json!(true)));
        assert_eq!(coerce_scalar("7", &["integer", "null"]), Some(json!(7)));
        assert_eq!(coerce_scalar("yes", &["boolean"]), None);
        assert_eq!(coerce_scalar("7", &["boolean"]), None);
    }

    #[test]
    fn closest_suggests_typos_only() {
        let known = vec!["SlackChannelId".to_owned(), "LoggingLevel".to_owned()];
        assert_eq!(closest("SlackChanelId", &known), Some("SlackChannelId"));
        assert_eq!(closest("Colour", &known), None);
    }
}
