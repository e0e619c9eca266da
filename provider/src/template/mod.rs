//! CloudFormation templates as `chatops plan`, `diff` and `validate` read
//! them: JSON or YAML (with the short-form tags), Parameters with defaults
//! and overrides, Conditions, Mappings and the intrinsic functions chat-ops
//! templates use.
//!
//! ```
//! use std::collections::BTreeMap;
//! use chatops::template::{Pseudo, ResolveOptions, Template};
//!
//! let template = Template::parse(
//!     "Resources:\n  Alerts:\n    Type: Custom::ChatbotSlackChannel\n    Properties:\n      ConfigurationName: !Sub chatops-${AWS::AccountId}\n",
//!     "stack.yaml",
//! )?;
//! let pseudo = Pseudo::new("100000000001", "us-east-1", "app");
//! let resolver = template.resolver(pseudo, &BTreeMap::new(), ResolveOptions::default())?;
//! let alerts = resolver.resource("Alerts")?.expect("its condition holds");
//! assert_eq!(alerts.properties["ConfigurationName"], "chatops-100000000001");
//! # Ok::<(), chatops::Error>(())
//! ```
//!
//! What cannot be known before a deploy (`Fn::GetAtt`, `Fn::ImportValue`,
//! `Ref` to a resource) resolves to a marker that [`unknown_origin`]
//! recognises; renderers show it as `(known after apply)`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

mod intrinsics;
pub mod parameters;
mod yaml;

pub use intrinsics::Resolver;

/// The SAM transform, which leaves `Custom::` resources as they are.
pub const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// The key of the marker object standing for a value known only after apply.
pub const UNKNOWN_KEY: &str = "chatops:known-after-apply";
/// Set on an unknown whose source resource changes in this deploy: its value
/// will differ from what is live.
pub const UNKNOWN_CHANGED_KEY: &str = "chatops:source-changes";
/// How a value known only after apply is shown.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// The marker for a value known only after apply, from `origin` (such as
/// `ChannelRole.Arn`); `changes` says whether its source is created or changed
/// by the deploy.
pub fn unknown(origin: &str, changes: bool) -> Value {
    if changes {
        json!({UNKNOWN_KEY: origin, UNKNOWN_CHANGED_KEY: true})
    } else {
        json!({UNKNOWN_KEY: origin})
    }
}

/// The origin of `value` when it is the marker of a value known only after apply.
pub fn unknown_origin(value: &Value) -> Option<&str> {
    value.as_object()?.get(UNKNOWN_KEY)?.as_str()
}

/// True when `value` is or holds a value known only after apply.
pub fn contains_unknown(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key(UNKNOWN_KEY) || map.values().any(contains_unknown),
        Value::Array(items) => items.iter().any(contains_unknown),
        _ => false,
    }
}

/// True when `value` holds a value known only after apply whose source the
/// deploy creates or changes.
pub fn contains_changing_unknown(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            map.contains_key(UNKNOWN_CHANGED_KEY) || map.values().any(contains_changing_unknown)
        }
        Value::Array(items) => items.iter().any(contains_changing_unknown),
        _ => false,
    }
}

/// `value` with every value known only after apply replaced by `placeholder`.
pub fn replace_unknowns(value: &Value, placeholder: &Value) -> Value {
    match value {
        v if unknown_origin(v).is_some() => placeholder.clone(),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), replace_unknowns(v, placeholder)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| replace_unknowns(v, placeholder))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The JSON-pointer-like paths (`Prop/0/Key`) of the unknowns in `value`.
pub fn unknown_paths(value: &Value) -> Vec<String> {
    fn walk(value: &Value, path: &str, out: &mut Vec<String>) {
        if unknown_origin(value).is_some() {
            out.push(path.to_owned());
            return;
        }
        let child = |key: &str| {
            if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}/{key}")
            }
        };
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, &child(k), out)),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| walk(v, &child(&i.to_string()), out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// A CloudFormation template, in its JSON form.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Where it came from (a file name, a StackSet), for messages.
    pub source: String,
    document: Map<String, Value>,
    parameters: Vec<parameters::ParameterDecl>,
    /// The `Fn::ForEach::` entries of Resources, which CloudFormation expands at deploy time.
    expanded_at_deploy: Vec<String>,
}

/// The pseudo parameters of one stack: what `AWS::AccountId` and friends resolve to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudo {
    /// `AWS::AccountId`.
    pub account_id: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::Partition` (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: String,
    /// `AWS::StackName`, when known; known after apply otherwise.
    pub stack_name: Option<String>,
    /// `AWS::StackId`, when the stack exists; known after apply otherwise.
    pub stack_id: Option<String>,
}

impl Pseudo {
    /// The pseudo parameters of stack `stack_name` in `account_id` and `region`;
    /// the partition follows from the region.
    pub fn new(account_id: &str, region: &str, stack_name: &str) -> Self {
        Pseudo {
            stack_name: Some(stack_name.to_owned()),
            ..Pseudo::unnamed(account_id, region)
        }
    }

    /// The pseudo parameters of a stack whose name is not known.
    pub fn unnamed(account_id: &str, region: &str) -> Self {
        Pseudo {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            partition: partition_of(region).to_owned(),
            stack_name: None,
            stack_id: None,
        }
    }

    /// The StackId of this stack: the real one when known, else one of the
    /// right form (what the plan uses as the owner of new resources).
    pub fn stack_arn(&self) -> String {
        self.stack_id.clone().unwrap_or_else(|| {
            format!(
                "arn:{}:cloudformation:{}:{}:stack/{}/planned",
                self.partition,
                self.region,
                self.account_id,
                self.stack_name.as_deref().unwrap_or("unnamed")
            )
        })
    }
}

/// The partition of `region`.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

/// How a template is resolved.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// A parameter with neither a value nor a default resolves to a value
    /// known only after apply instead of failing (what `validate` wants).
    pub missing_parameters_unknown: bool,
    /// The logical ids of the resources the deploy creates or changes; a value
    /// read from one of them is known to change. `None`: not known.
    pub changing_resources: Option<BTreeSet<String>>,
    /// Parameters whose value exists but cannot be read (a NoEcho value that
    /// CloudFormation shows as `****`): known only after apply, never their
    /// Default.
    pub unknown_parameters: BTreeSet<String>,
}

/// One resource of a template with its properties resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedResource {
    /// The logical id.
    pub logical_id: String,
    /// The resource type, such as `Custom::ChatbotSlackChannel`.
    pub type_name: String,
    /// The resolved properties (an object), possibly holding values known only after apply.
    pub properties: Value,
}

impl Template {
    /// Reads the template at `path` (JSON or YAML).
    pub fn load(path: &Path) -> Result<Template> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::InvalidTemplate {
            location: source.clone(),
            problem: format!("cannot read the template: {e}"),
        })?;
        Template::parse(&text, &source)
    }

    /// Parses a template from `text` (JSON when it starts with `{`, YAML
    /// otherwise); `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Template> {
        let document = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| Error::InvalidTemplate {
                location: source.to_owned(),
                problem: format!("not valid JSON: {e}"),
            })?
        } else {
            yaml::parse(text, source)?
        };
        Template::from_value(document, source)
    }

    /// A template from its JSON form.
    pub fn from_value(document: Value, source: &str) -> Result<Template> {
        let invalid = |location: &str, problem: String| Error::InvalidTemplate {
            location: location.to_owned(),
            problem,
        };
        let Value::Object(document) = document else {
            return Err(invalid(
                source,
                "a template is a mapping with a Resources section".into(),
            ));
        };
        let mut document = document;
        // Language extensions' loops are expanded by CloudFormation at deploy
        // time: what they make cannot be checked before (see `warnings`).
        let mut expanded_at_deploy = Vec::new();
        if let Some(Value::Object(resources)) = document.get_mut("Resources") {
            resources.retain(|id, _| {
                let is_loop = id.starts_with("Fn::ForEach::");
                if is_loop {
                    expanded_at_deploy.push(id.clone());
                }
                !is_loop
            });
        }
        let resources = document
            .get("Resources")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid(source, "the template has no Resources mapping".into()))?;
        for (logical_id, resource) in resources {
            let location = format!("Resources/{logical_id}");
            if !logical_id.chars().all(|c| c.is_ascii_alphanumeric()) || logical_id.is_empty() {
                return Err(invalid(
                    &location,
                    "a logical id has only letters and digits".into(),
                ));
            }
            let Some(resource) = resource.as_object() else {
                return Err(invalid(
                    &location,
                    "a resource is a mapping with Type and Properties".into(),
                ));
            };
            if !resource.get("Type").is_some_and(Value::is_string) {
                return Err(invalid(&location, "Type is missing or not a string".into()));
            }
            if let Some(properties) = resource.get("Properties") {
                if !properties.is_object() && !properties.is_null() {
                    return Err(invalid(
                        &format!("{location}/Properties"),
                        "Properties must be a mapping".into(),
                    ));
                }
            }
        }
        for section in ["Parameters", "Conditions", "Mappings"] {
            if let Some(value) = document.get(section) {
                if !value.is_object() && !value.is_null() {
                    return Err(invalid(section, format!("{section} must be a mapping")));
                }
            }
        }
        Ok(Template {
            source: source.to_owned(),
            parameters: parameters::read_declarations(&document)?,
            document,
            expanded_at_deploy,
        })
    }

    /// The transforms the template declares (`Transform`), in order.
    pub fn transforms(&self) -> Vec<String> {
        let name = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(m) => m.get("Name").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        match self.document.get("Transform") {
            Some(Value::Array(items)) => items.iter().filter_map(name).collect(),
            Some(other) => name(other).into_iter().collect(),
            None => Vec::new(),
        }
    }

    /// What CloudFormation may change in this template before it deploys it,
    /// as (location, what it may change) pairs: transforms other than SAM's,
    /// `Fn::Transform` (macros) and language extensions' `Fn::ForEach`.
    ///
    /// SAM's transform (`AWS::Serverless-2016-10-31`) is left out: its
    /// `Globals` apply to `AWS::Serverless::*` resources only, and a SAM
    /// template's Resources mix those with plain CloudFormation resources,
    /// which it leaves as they are (AWS SAM Developer Guide, "AWS SAM
    /// template anatomy"), so `Custom::` resources deploy as written.
    pub fn warnings(&self) -> Vec<(String, String)> {
        let mut warnings = Vec::new();
        for transform in self.transforms() {
            let effect = match transform.as_str() {
                SAM_TRANSFORM => continue,
                "AWS::Include" => {
                    "AWS::Include inserts template snippets from Amazon S3 at deploy time; the resources \
                     and properties it inserts are not checked here"
                }
                "AWS::LanguageExtensions" => {
                    "AWS::LanguageExtensions expands Fn::ForEach, Fn::Length, Fn::ToJsonString and \
                     intrinsic functions in policies at deploy time; resources made by Fn::ForEach are \
                     not checked here"
                }
                _ => {
                    "a macro or transform may rewrite any part of the template, these custom resources \
                     included; what is checked here is the template before it runs"
                }
            };
            warnings.push((
                "Transform".to_owned(),
                format!(
                    "{transform}: {effect}; to check what CloudFormation deploys, validate the processed \
                     template (aws cloudformation get-template --template-stage Processed)"
                ),
            ));
        }
        for id in &self.expanded_at_deploy {
            warnings.push((
                format!("Resources/{id}"),
                "Fn::ForEach is expanded at deploy time (AWS::LanguageExtensions); the resources it makes \
                 are not checked here"
                    .to_owned(),
            ));
        }
        fn find_macros(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
            match value {
                Value::Object(map) => {
                    for (key, item) in map {
                        let here = format!("{path}/{key}");
                        if key == "Fn::Transform" {
                            out.push((
                                path.trim_start_matches('/').to_owned(),
                                "Fn::Transform runs a macro at deploy time that may rewrite this value; \
                                 what is checked here is the value before it runs"
                                    .to_owned(),
                            ));
                        } else {
                            find_macros(item, &here, out);
                        }
                    }
                }
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .for_each(|(i, item)| find_macros(item, &format!("{path}/{i}"), out)),
                _ => {}
            }
        }
        find_macros(&Value::Object(self.document.clone()), "", &mut warnings);
        warnings
    }

    /// The declared parameters, in name order.
    pub fn parameters(&self) -> &[parameters::ParameterDecl] {
        &self.parameters
    }

    /// The template in its JSON form.
    pub fn document(&self) -> &Map<String, Value> {
        &self.document
    }

    /// A top-level section (`Parameters`, `Conditions`, `Mappings`, `Resources`), empty when absent.
    pub fn section(&self, name: &str) -> &Map<String, Value> {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        self.document
            .get(name)
            .and_then(Value::as_object)
            .unwrap_or(&EMPTY)
    }

    /// The logical ids and types of every resource, in logical id order.
    pub fn resource_types(&self) -> BTreeMap<&str, &str> {
        self.section("Resources")
            .iter()
            .map(|(id, r)| {
                (
                    id.as_str(),
                    r.get("Type").and_then(Value::as_str).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// A resolver of this template for one stack: parameters are taken from
    /// `overrides`, then the declared defaults, and checked; conditions are
    /// evaluated.
    pub fn resolver(
        &self,
        pseudo: Pseudo,
        overrides: &BTreeMap<String, String>,
        options: ResolveOptions,
    ) -> Result<Resolver<'_>> {
        let resolved = parameters::resolve(&self.parameters, overrides, &options)?;
        Resolver::new(self, pseudo, resolved, options)
    }

    /// The logical ids of resources of this template that differ from
    /// `deployed` (or are new), comparing their resolved definitions; what a
    /// `Fn::GetAtt` or `Ref` of them gives may then change.
    pub fn changing_resources(
        &self,
        new: &Resolver<'_>,
        deployed_template: &Template,
        deployed: &Resolver<'_>,
    ) -> BTreeSet<String> {
        let deployed_resources = deployed_template.section("Resources");
        self.section("Resources")
            .iter()
            .filter(|(logical_id, raw)| {
                let Some(old_raw) = deployed_resources.get(*logical_id) else {
                    return true;
                };
                match (new.definition(logical_id), deployed.definition(logical_id)) {
                    (Ok(a), Ok(b)) => a != b,
                    _ => *raw != old_raw,
                }
            })
            .map(|(logical_id, _)| logical_id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_give_the_same_document() {
        let yaml = Template::parse(
            "Resources:\n  A:\n    Type: Custom::X\n    Properties:\n      P: !Ref Q\n",
            "a.yaml",
        )
        .unwrap();
        let json = Template::parse(
            r#"{"Resources": {"A": {"Type": "Custom::X", "Properties": {"P": {"Ref": "Q"}}}}}"#,
            "a.json",
        )
        .unwrap();
        assert_eq!(yaml.document(), json.document());
    }

    #[test]
    fn structure_errors_name_their_location() {
        let err = Template::parse("Parameters: {}\n", "t.yaml")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t.yaml: the template has no Resources mapping");
        let err = Template::parse("Resources:\n  A:\n    Properties: {}\n", "t.yaml")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "Resources/A: Type is missing or not a string");
        let sam = Template::parse(
            "Transform: AWS::Serverless-2016-10-31\nResources: {}\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(sam.transforms(), [SAM_TRANSFORM]);
        assert!(sam.warnings().is_empty());
    }

    #[test]
    fn transforms_other_than_sam_and_macros_are_reported_not_refused() {
        let template = Template::parse(
            "Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions, {Name: AWS::Include, \
             Parameters: {Location: s3://b/k}}, MyMacro]\nResources:\n  Fn::ForEach::Topics: [T, [a, b], {}]\n  \
             A:\n    Type: Custom::X\n    Properties:\n      P: {Fn::Transform: {Name: MyMacro}}\n",
            "t.yaml",
        )
        .unwrap();
        let warnings = template.warnings();
        let text = format!("{warnings:?}");
        assert_eq!(warnings.len(), 5, "{text}");
        assert!(!text.contains("Serverless"), "{text}");
        assert!(
            text.contains("AWS::LanguageExtensions: AWS::LanguageExtensions expands Fn::ForEach"),
            "{text}"
        );
        assert!(
            text.contains("AWS::Include: AWS::Include inserts"),
            "{text}"
        );
        assert!(
            text.contains("MyMacro: a macro or transform may rewrite"),
            "{text}"
        );
        assert!(
            warnings
                .iter()
                .any(|(at, _)| at == "Resources/Fn::ForEach::Topics")
        );
        assert!(
            warnings
                .iter()
                .any(|(at, _)| at == "Resources/A/Properties/P")
        );
        assert_eq!(template.resource_types().len(), 1);
    }

    #[test]
    fn resources_a_transform_makes_are_known_after_apply() {
        let text = "Resources:\n  A:\n    Type: Custom::X\n    Properties:\n      Role: !GetAtt FnRole.Arn\n      Api: !Ref ApiStage\n";
        let plain = Template::parse(text, "t.yaml").unwrap();
        let pseudo = Pseudo::unnamed("100000000001", "us-east-1");
        let options = ResolveOptions::default();
        let resolver = plain
            .resolver(pseudo.clone(), &BTreeMap::new(), options.clone())
            .unwrap();
        assert!(
            resolver.resource("A").is_err(),
            "FnRole is not in a plain template"
        );
        let sam =
            Template::parse(&format!("Transform: {SAM_TRANSFORM}\n{text}"), "t.yaml").unwrap();
        let resolver = sam.resolver(pseudo, &BTreeMap::new(), options).unwrap();
        let resolved = resolver.resource("A").unwrap().unwrap();
        assert_eq!(
            unknown_origin(&resolved.properties["Role"]),
            Some("FnRole.Arn")
        );
        assert_eq!(
            unknown_origin(&resolved.properties["Api"]),
            Some("ApiStage")
        );
    }

    #[test]
    fn unknown_markers_are_found_and_replaced() {
        let value = json!({"A": [1, unknown("R.Arn", false)], "B": {"C": unknown("R", true)}});
        assert!(contains_unknown(&value));
        assert!(contains_changing_unknown(&value));
        assert_eq!(unknown_paths(&value), ["A/1", "B/C"]);
        let replaced = replace_unknowns(&value, &json!("x"));
        assert_eq!(replaced, json!({"A": [1, "x"], "B": {"C": "x"}}));
        assert!(!contains_unknown(&replaced));
    }

    #[test]
    fn partitions_follow_regions() {
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("eu-west-1"), "aws");
        let pseudo = Pseudo::new("100000000001", "us-east-1", "app");
        assert_eq!(
            pseudo.stack_arn(),
            "arn:aws:cloudformation:us-east-1:100000000001:stack/app/planned"
        );
    }
}
