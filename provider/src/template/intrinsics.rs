//! The intrinsic functions a chat-ops template uses, resolved for one stack:
//! Ref (parameters, pseudo parameters, resources), Fn::Sub, Fn::Join,
//! Fn::Select, Fn::Split, Fn::If, Fn::Equals, Fn::And, Fn::Or, Fn::Not,
//! Fn::FindInMap, Fn::GetAtt and Fn::ImportValue. Anything else is an error
//! that says where it is.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::parameters::{ResolvedParameters, scalar_text};
use super::{Pseudo, ResolveOptions, ResolvedResource, Template, unknown, unknown_origin};
use crate::error::{Error, Result};

/// The functions this resolver handles, for error messages.
const SUPPORTED: &str = "Ref, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::Equals, \
     Fn::And, Fn::Or, Fn::Not, Fn::FindInMap, Fn::GetAtt, Fn::ImportValue";

/// Resolves the values of one template for one stack.
#[derive(Debug)]
pub struct Resolver<'t> {
    template: &'t Template,
    pseudo: Pseudo,
    parameters: ResolvedParameters,
    changing: Option<BTreeSet<String>>,
    conditions: BTreeMap<String, bool>,
    conditions_ready: bool,
}

fn invalid(location: &str, problem: impl Into<String>) -> Error {
    Error::InvalidTemplate {
        location: location.to_owned(),
        problem: problem.into(),
    }
}

impl<'t> Resolver<'t> {
    pub(super) fn new(
        template: &'t Template,
        pseudo: Pseudo,
        parameters: ResolvedParameters,
        options: ResolveOptions,
    ) -> Result<Self> {
        let mut resolver = Resolver {
            template,
            pseudo,
            parameters,
            changing: options.changing_resources,
            conditions: BTreeMap::new(),
            conditions_ready: false,
        };
        let names: Vec<String> = template.section("Conditions").keys().cloned().collect();
        let mut done = BTreeMap::new();
        for name in names {
            resolver.evaluate_condition(&name, &mut Vec::new(), &mut done)?;
        }
        resolver.conditions = done;
        resolver.conditions_ready = true;
        Ok(resolver)
    }

    /// The template being resolved.
    pub fn template(&self) -> &'t Template {
        self.template
    }

    /// The pseudo parameters of the stack.
    pub fn pseudo(&self) -> &Pseudo {
        &self.pseudo
    }

    /// The values of NoEcho parameters: never to be shown.
    pub fn secrets(&self) -> &[String] {
        &self.parameters.secrets
    }

    /// The value of condition `name`.
    pub fn condition(&self, name: &str) -> Option<bool> {
        self.conditions.get(name).copied()
    }

    /// Whether resource `logical_id` exists with these parameters (its Condition holds).
    pub fn exists(&self, logical_id: &str) -> Result<bool> {
        let location = format!("Resources/{logical_id}/Condition");
        let resource = self.template.section("Resources").get(logical_id);
        match resource.and_then(|r| r.get("Condition")) {
            None => Ok(resource.is_some()),
            Some(Value::String(name)) => self.condition(name).ok_or_else(|| {
                invalid(
                    &location,
                    format!("condition {name:?} is not declared in Conditions"),
                )
            }),
            Some(_) => Err(invalid(&location, "Condition must be a condition name")),
        }
    }

    /// Resource `logical_id` with its properties resolved, or `None` when its
    /// Condition does not hold (or it is not in the template).
    pub fn resource(&self, logical_id: &str) -> Result<Option<ResolvedResource>> {
        if !self.exists(logical_id)? {
            return Ok(None);
        }
        self.resource_always(logical_id).map(Some)
    }

    /// Resource `logical_id` with its properties resolved, whether or not its
    /// Condition holds (what `validate` checks).
    pub fn resource_always(&self, logical_id: &str) -> Result<ResolvedResource> {
        let location = format!("Resources/{logical_id}");
        let raw = self
            .template
            .section("Resources")
            .get(logical_id)
            .ok_or_else(|| invalid(&location, "no such resource"))?;
        let type_name = raw
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let properties = match raw.get("Properties") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(properties) => self
                .value(properties, &format!("{location}/Properties"))?
                .unwrap_or_else(|| Value::Object(Map::new())),
        };
        Ok(ResolvedResource {
            logical_id: logical_id.to_owned(),
            type_name,
            properties,
        })
    }

    /// The resolved definition of a resource (type, whether it exists, properties),
    /// to tell whether it changes between two templates.
    pub(super) fn definition(&self, logical_id: &str) -> Result<Value> {
        let exists = self.exists(logical_id)?;
        let resource = self.resource_always(logical_id)?;
        Ok(serde_json::json!([
            resource.type_name,
            exists,
            resource.properties
        ]))
    }

    /// Resolves `value` found at `location`; `None` is `AWS::NoValue`.
    pub fn value(&self, value: &Value, location: &str) -> Result<Option<Value>> {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let Some((key, argument)) = map.iter().next() else {
                    return Ok(Some(Value::Object(Map::new())));
                };
                if key == "Ref" || key.starts_with("Fn::") {
                    return self.function(key, argument, location);
                }
                self.object(map, location)
            }
            Value::Object(map) => self.object(map, location),
            Value::Array(items) => {
                let mut resolved = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    if let Some(item) = self.value(item, &format!("{location}/{index}"))? {
                        resolved.push(item);
                    }
                }
                Ok(Some(Value::Array(resolved)))
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }

    fn object(&self, map: &Map<String, Value>, location: &str) -> Result<Option<Value>> {
        let mut resolved = Map::new();
        for (key, item) in map {
            if let Some(item) = self.value(item, &format!("{location}/{key}"))? {
                resolved.insert(key.clone(), item);
            }
        }
        Ok(Some(Value::Object(resolved)))
    }

    /// A value that must be present (not AWS::NoValue).
    fn required(&self, value: &Value, location: &str, function: &str) -> Result<Value> {
        self.value(value, location)?.ok_or_else(|| {
            invalid(
                location,
                format!("{function}: AWS::NoValue cannot be used here"),
            )
        })
    }

    fn function(&self, name: &str, argument: &Value, location: &str) -> Result<Option<Value>> {
        match name {
            "Ref" => self.reference(argument, location),
            "Fn::Sub" => self.sub(argument, location).map(Some),
            "Fn::Join" => self.join(argument, location).map(Some),
            "Fn::Select" => self.select(argument, location),
            "Fn::Split" => self.split(argument, location).map(Some),
            "Fn::If" => self.if_(argument, location),
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
                let mut done = self.conditions.clone();
                self.condition_function(name, argument, location, &mut Vec::new(), &mut done)
                    .map(|b| Some(Value::Bool(b)))
            }
            "Fn::FindInMap" => self.find_in_map(argument, location).map(Some),
            "Fn::GetAtt" => self.get_att(argument, location).map(Some),
            "Fn::ImportValue" => {
                let exported = self.required(argument, location, name)?;
                let shown = scalar_text(&exported).unwrap_or_else(|| "an export".into());
                Ok(Some(unknown(&format!("import {shown}"), false)))
            }
            other => Err(invalid(
                location,
                format!("{other} is not supported by chatops plan; it handles {SUPPORTED}"),
            )),
        }
    }

    fn reference(&self, argument: &Value, location: &str) -> Result<Option<Value>> {
        let Some(name) = argument.as_str() else {
            return Err(invalid(
                location,
                "Ref takes the name of a parameter or resource",
            ));
        };
        if let Some(value) = self.pseudo_parameter(name, location)? {
            return Ok(value);
        }
        if let Some(value) = self.parameters.values.get(name) {
            return Ok(Some(value.clone()));
        }
        if self.template.section("Resources").contains_key(name) || self.made_at_deploy(name) {
            return Ok(Some(self.resource_value(name, name)));
        }
        Err(invalid(
            location,
            format!(
                "Ref to {name:?}, which is neither a parameter, a resource nor a pseudo parameter of the template"
            ),
        ))
    }

    /// `Some(None)` is AWS::NoValue; `None` means `name` is no pseudo parameter.
    fn pseudo_parameter(&self, name: &str, location: &str) -> Result<Option<Option<Value>>> {
        let pseudo = &self.pseudo;
        let text = |s: &str| Ok(Some(Some(Value::String(s.to_owned()))));
        match name {
            "AWS::AccountId" => text(&pseudo.account_id),
            "AWS::Region" => text(&pseudo.region),
            "AWS::Partition" => text(&pseudo.partition),
            "AWS::StackName" => match &pseudo.stack_name {
                Some(name) => text(name),
                None => Ok(Some(Some(unknown("AWS::StackName", false)))),
            },
            "AWS::URLSuffix" => text(if pseudo.partition == "aws-cn" {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            }),
            "AWS::StackId" => match &pseudo.stack_id {
                Some(id) => text(id),
                None => Ok(Some(Some(unknown("AWS::StackId", false)))),
            },
            "AWS::NoValue" => Ok(Some(None)),
            "AWS::NotificationARNs" => Ok(Some(Some(unknown("AWS::NotificationARNs", false)))),
            other if other.starts_with("AWS::") => Err(invalid(
                location,
                format!("{other} is not a pseudo parameter"),
            )),
            _ => Ok(None),
        }
    }

    /// True when `name` may be a resource that a transform adds at deploy
    /// time, such as the `MyFunctionRole` that SAM makes for `MyFunction`.
    fn made_at_deploy(&self, name: &str) -> bool {
        !self.template.transforms().is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric())
            && !name.is_empty()
    }

    fn resource_value(&self, logical_id: &str, origin: &str) -> Value {
        let changes = self
            .changing
            .as_ref()
            .is_some_and(|changing| changing.contains(logical_id));
        unknown(origin, changes)
    }

    fn get_att(&self, argument: &Value, location: &str) -> Result<Value> {
        let (logical_id, attribute) = match argument {
            Value::String(text) => match text.split_once('.') {
                Some((id, attr)) => (id.to_owned(), attr.to_owned()),
                None => {
                    return Err(invalid(
                        location,
                        format!("Fn::GetAtt {text:?} must be LogicalId.Attribute"),
                    ));
                }
            },
            Value::Array(items) if items.len() == 2 => {
                let id = items[0].as_str().map(str::to_owned);
                let attr = self
                    .required(&items[1], location, "Fn::GetAtt")?
                    .as_str()
                    .map(str::to_owned);
                match (id, attr) {
                    (Some(id), Some(attr)) => (id, attr),
                    _ => {
                        return Err(invalid(
                            location,
                            "Fn::GetAtt takes [LogicalId, Attribute] as strings",
                        ));
                    }
                }
            }
            _ => {
                return Err(invalid(
                    location,
                    "Fn::GetAtt takes LogicalId.Attribute or [LogicalId, Attribute]",
                ));
            }
        };
        if !self.template.section("Resources").contains_key(&logical_id)
            && !self.made_at_deploy(&logical_id)
        {
            return Err(invalid(
                location,
                format!("Fn::GetAtt of {logical_id:?}, which is not a resource of the template"),
            ));
        }
        Ok(self.resource_value(&logical_id, &format!("{logical_id}.{attribute}")))
    }

    fn sub(&self, argument: &Value, location: &str) -> Result<Value> {
        let (text, variables) = match argument {
            Value::String(text) => (text.as_str(), Map::new()),
            Value::Array(items) if items.len() == 2 => {
                let text = items[0].as_str().ok_or_else(|| {
                    invalid(location, "Fn::Sub takes a string, or [string, variables]")
                })?;
                let Value::Object(raw) = &items[1] else {
                    return Err(invalid(location, "Fn::Sub variables must be a mapping"));
                };
                let mut variables = Map::new();
                for (name, value) in raw {
                    let value = self.required(value, &format!("{location}/{name}"), "Fn::Sub")?;
                    variables.insert(name.clone(), value);
                }
                (text, variables)
            }
            _ => {
                return Err(invalid(
                    location,
                    "Fn::Sub takes a string, or [string, variables]",
                ));
            }
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| {
                invalid(location, format!("Fn::Sub: unterminated ${{ in {text:?}"))
            })?;
            let name = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let name = name.trim();
            let value = match variables.get(name) {
                Some(value) => value.clone(),
                None if name.contains('.') && !name.starts_with("AWS::") => {
                    self.get_att(&Value::String(name.to_owned()), location)?
                }
                None => self
                    .reference(&Value::String(name.to_owned()), location)?
                    .ok_or_else(|| {
                        invalid(location, "Fn::Sub: AWS::NoValue cannot be substituted")
                    })?,
            };
            if unknown_origin(&value).is_some() {
                return Ok(value);
            }
            let piece = scalar_text(&value).ok_or_else(|| {
                invalid(
                    location,
                    format!("Fn::Sub: ${{{name}}} is a list or mapping, not a string"),
                )
            })?;
            out.push_str(&piece);
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }

    fn list_argument(&self, value: &Value, location: &str, function: &str) -> Result<Value> {
        let list = self.required(value, location, function)?;
        if list.is_array() || unknown_origin(&list).is_some() {
            Ok(list)
        } else {
            Err(invalid(location, format!("{function} needs a list here")))
        }
    }

    fn join(&self, argument: &Value, location: &str) -> Result<Value> {
        let Some([delimiter, list]) = argument.as_array().map(Vec::as_slice) else {
            return Err(invalid(location, "Fn::Join takes [delimiter, [values]]"));
        };
        let delimiter = delimiter
            .as_str()
            .ok_or_else(|| invalid(location, "Fn::Join: the delimiter must be a string"))?;
        let list = self.list_argument(list, location, "Fn::Join")?;
        let Value::Array(items) = list else {
            return Ok(list);
        };
        let mut pieces = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if unknown_origin(item).is_some() {
                return Ok(item.clone());
            }
            pieces.push(scalar_text(item).ok_or_else(|| {
                invalid(
                    location,
                    format!("Fn::Join: item {index} is a list or mapping, not a string"),
                )
            })?);
        }
        Ok(Value::String(pieces.join(delimiter)))
    }

    fn select(&self, argument: &Value, location: &str) -> Result<Option<Value>> {
        let Some([index, list]) = argument.as_array().map(Vec::as_slice) else {
            return Err(invalid(location, "Fn::Select takes [index, [values]]"));
        };
        let index = self.required(index, location, "Fn::Select")?;
        if unknown_origin(&index).is_some() {
            return Ok(Some(index));
        }
        let index: usize = scalar_text(&index)
            .and_then(|text| text.trim().parse().ok())
            .ok_or_else(|| invalid(location, "Fn::Select: the index must be a whole number"))?;
        let list = self.list_argument(list, location, "Fn::Select")?;
        let Value::Array(items) = list else {
            return Ok(Some(list));
        };
        items.get(index).cloned().map(Some).ok_or_else(|| {
            invalid(
                location,
                format!(
                    "Fn::Select: index {index} is out of range of a list of {}",
                    items.len()
                ),
            )
        })
    }

    fn split(&self, argument: &Value, location: &str) -> Result<Value> {
        let Some([delimiter, text]) = argument.as_array().map(Vec::as_slice) else {
            return Err(invalid(location, "Fn::Split takes [delimiter, string]"));
        };
        let delimiter = delimiter
            .as_str()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| {
                invalid(
                    location,
                    "Fn::Split: the delimiter must be a non-empty string",
                )
            })?;
        let text = self.required(text, location, "Fn::Split")?;
        if unknown_origin(&text).is_some() {
            return Ok(text);
        }
        let text = scalar_text(&text)
            .ok_or_else(|| invalid(location, "Fn::Split: the source must be a string"))?;
        Ok(Value::Array(
            text.split(delimiter)
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ))
    }

    fn if_(&self, argument: &Value, location: &str) -> Result<Option<Value>> {
        if !self.conditions_ready {
            return Err(invalid(location, "Fn::If cannot be used inside Conditions"));
        }
        let Some([condition, when_true, when_false]) = argument.as_array().map(Vec::as_slice)
        else {
            return Err(invalid(
                location,
                "Fn::If takes [condition name, value if true, value if false]",
            ));
        };
        let name = condition
            .as_str()
            .ok_or_else(|| invalid(location, "Fn::If: the first item must be a condition name"))?;
        let holds = self.condition(name).ok_or_else(|| {
            invalid(
                location,
                format!("Fn::If: condition {name:?} is not declared in Conditions"),
            )
        })?;
        if holds {
            self.value(when_true, location)
        } else {
            self.value(when_false, location)
        }
    }

    fn find_in_map(&self, argument: &Value, location: &str) -> Result<Value> {
        let Some([map, top, second]) = argument.as_array().map(Vec::as_slice) else {
            return Err(invalid(
                location,
                "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]",
            ));
        };
        let mut keys = Vec::with_capacity(3);
        for key in [map, top, second] {
            let key = self.required(key, location, "Fn::FindInMap")?;
            if unknown_origin(&key).is_some() {
                return Ok(key);
            }
            keys.push(
                scalar_text(&key)
                    .ok_or_else(|| invalid(location, "Fn::FindInMap: keys must be strings"))?,
            );
        }
        let mappings = self.template.section("Mappings");
        let found = mappings
            .get(&keys[0])
            .ok_or_else(|| {
                invalid(
                    location,
                    format!("Fn::FindInMap: no mapping {:?} in Mappings", keys[0]),
                )
            })?
            .get(&keys[1])
            .ok_or_else(|| {
                invalid(
                    location,
                    format!(
                        "Fn::FindInMap: mapping {:?} has no key {:?}",
                        keys[0], keys[1]
                    ),
                )
            })?
            .get(&keys[2])
            .ok_or_else(|| {
                invalid(
                    location,
                    format!(
                        "Fn::FindInMap: mapping {:?} has no key {:?} under {:?}",
                        keys[0], keys[2], keys[1]
                    ),
                )
            })?;
        Ok(found.clone())
    }

    fn evaluate_condition(
        &self,
        name: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeMap<String, bool>,
    ) -> Result<bool> {
        if let Some(value) = done.get(name) {
            return Ok(*value);
        }
        let location = format!("Conditions/{name}");
        if stack.iter().any(|n| n == name) {
            stack.push(name.to_owned());
            return Err(invalid(
                &location,
                format!(
                    "conditions refer to each other in a cycle: {}",
                    stack.join(" -> ")
                ),
            ));
        }
        let definition = self
            .template
            .section("Conditions")
            .get(name)
            .ok_or_else(|| invalid(&location, "this condition is not declared in Conditions"))?;
        stack.push(name.to_owned());
        let value = self.condition_expression(definition, &location, stack, done)?;
        stack.pop();
        done.insert(name.to_owned(), value);
        Ok(value)
    }

    fn condition_expression(
        &self,
        expression: &Value,
        location: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeMap<String, bool>,
    ) -> Result<bool> {
        let single = expression.as_object().filter(|m| m.len() == 1);
        let Some((name, argument)) = single.and_then(|m| m.iter().next()) else {
            return Err(invalid(
                location,
                "a condition is Fn::Equals, Fn::And, Fn::Or, Fn::Not or {Condition: Name}",
            ));
        };
        if name == "Condition" {
            let other = argument
                .as_str()
                .ok_or_else(|| invalid(location, "Condition takes a condition name"))?;
            return self.evaluate_condition(other, stack, done);
        }
        self.condition_function(name, argument, location, stack, done)
    }

    fn condition_function(
        &self,
        name: &str,
        argument: &Value,
        location: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeMap<String, bool>,
    ) -> Result<bool> {
        let items = argument
            .as_array()
            .ok_or_else(|| invalid(location, format!("{name} takes a list")))?;
        match name {
            "Fn::Equals" => {
                let [a, b] = items.as_slice() else {
                    return Err(invalid(location, "Fn::Equals takes two values"));
                };
                let a = self.comparable(a, location)?;
                let b = self.comparable(b, location)?;
                Ok(a == b)
            }
            "Fn::Not" => {
                let [inner] = items.as_slice() else {
                    return Err(invalid(location, "Fn::Not takes one condition"));
                };
                Ok(!self.condition_expression(inner, location, stack, done)?)
            }
            "Fn::And" | "Fn::Or" => {
                if !(2..=10).contains(&items.len()) {
                    return Err(invalid(
                        location,
                        format!("{name} takes 2 to 10 conditions"),
                    ));
                }
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.condition_expression(item, location, stack, done)?);
                }
                Ok(if name == "Fn::And" {
                    values.iter().all(|v| *v)
                } else {
                    values.iter().any(|v| *v)
                })
            }
            other => Err(invalid(
                location,
                format!("{other} is not a condition function"),
            )),
        }
    }

    /// A value of Fn::Equals, in the form CloudFormation compares (scalars as strings).
    fn comparable(&self, value: &Value, location: &str) -> Result<Value> {
        let resolved = self.required(value, location, "Fn::Equals")?;
        if super::contains_unknown(&resolved) {
            return Err(invalid(
                location,
                "Fn::Equals compares a value known only after apply; conditions must depend on \
                 parameters, pseudo parameters and mappings only",
            ));
        }
        Ok(scalar_text(&resolved).map_or(resolved, Value::String))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEMPLATE: &str = r#"
Parameters:
  Env: {Type: String, Default: prod, AllowedValues: [prod, dev]}
  Topics: {Type: CommaDelimitedList, Default: "t1,t2"}
  Level: {Type: String, Default: ERROR}
Mappings:
  Levels:
    prod: {Logging: ERROR}
    dev: {Logging: INFO}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [!Ref Level, ERROR]]
Resources:
  Role:
    Type: AWS::IAM::Role
  Alerts:
    Type: Custom::ChatbotSlackChannel
    Properties:
      Name: !Sub "chatops-${AWS::AccountId}-${Env}"
      Escaped: !Sub "${!Literal}-${AWS::Region}"
      WithVars: !Sub ["${A}/${B}", {A: !Ref Env, B: x}]
      Joined: !Join [":", [a, !Ref Level, 3]]
      First: !Select [1, !Ref Topics]
      Parts: !Split [",", "a,b,c"]
      Picked: !If [IsProd, !Ref Level, !Ref "AWS::NoValue"]
      Mapped: !FindInMap [Levels, !Ref Env, Logging]
      Role: !GetAtt Role.Arn
      RoleRef: !Ref Role
      Arns:
        - !If [IsDev, dev-arn, !Ref "AWS::NoValue"]
        - kept
      Imported: !ImportValue shared-topic
      Stack: !Ref AWS::StackName
  DevOnly:
    Type: Custom::ChatbotSlackChannel
    Condition: IsDev
    Properties: {}
"#;

    fn resolver<'t>(t: &'t Template, overrides: &[(&str, &str)]) -> Result<Resolver<'t>> {
        let overrides = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.resolver(
            Pseudo::new("100000000001", "eu-west-1", "app"),
            &overrides,
            ResolveOptions::default(),
        )
    }

    #[test]
    fn every_supported_function_resolves() {
        let t = Template::parse(TEMPLATE, "t.yaml").unwrap();
        let r = resolver(&t, &[]).unwrap();
        let props = r.resource("Alerts").unwrap().unwrap().properties;
        assert_eq!(props["Name"], json!("chatops-100000000001-prod"));
        assert_eq!(props["Escaped"], json!("${Literal}-eu-west-1"));
        assert_eq!(props["WithVars"], json!("prod/x"));
        assert_eq!(props["Joined"], json!("a:ERROR:3"));
        assert_eq!(props["First"], json!("t2"));
        assert_eq!(props["Parts"], json!(["a", "b", "c"]));
        assert_eq!(props["Picked"], json!("ERROR"));
        assert_eq!(props["Mapped"], json!("ERROR"));
        assert_eq!(unknown_origin(&props["Role"]), Some("Role.Arn"));
        assert_eq!(unknown_origin(&props["RoleRef"]), Some("Role"));
        assert_eq!(props["Arns"], json!(["kept"]));
        assert_eq!(
            unknown_origin(&props["Imported"]),
            Some("import shared-topic")
        );
        assert_eq!(props["Stack"], json!("app"));
        assert_eq!(r.condition("Both"), Some(true));
        assert!(r.resource("DevOnly").unwrap().is_none());
    }

    #[test]
    fn parameters_change_conditions_and_branches() {
        let t = Template::parse(TEMPLATE, "t.yaml").unwrap();
        let r = resolver(&t, &[("Env", "dev")]).unwrap();
        let props = r.resource("Alerts").unwrap().unwrap().properties;
        assert!(
            props.get("Picked").is_none(),
            "AWS::NoValue removes the property"
        );
        assert_eq!(props["Mapped"], json!("INFO"));
        assert_eq!(props["Arns"], json!(["dev-arn", "kept"]));
        assert!(r.resource("DevOnly").unwrap().is_some());
    }

    #[test]
    fn sources_that_change_mark_their_values() {
        let t = Template::parse(TEMPLATE, "t.yaml").unwrap();
        let r = t
            .resolver(
                Pseudo::new("100000000001", "eu-west-1", "app"),
                &BTreeMap::new(),
                ResolveOptions {
                    changing_resources: Some(["Role".to_owned()].into()),
                    ..Default::default()
                },
            )
            .unwrap();
        let props = r.resource("Alerts").unwrap().unwrap().properties;
        assert!(super::super::contains_changing_unknown(&props["Role"]));
        assert!(!super::super::contains_changing_unknown(&props["Imported"]));
    }

    fn error_of(properties: &str) -> String {
        let text = format!(
            "Conditions:\n  C: !Equals [a, a]\nResources:\n  Alerts:\n    Type: Custom::X\n    Properties:\n{properties}\n"
        );
        let t = Template::parse(&text, "t.yaml").unwrap();
        let r = resolver(&t, &[]).unwrap();
        r.resource("Alerts").unwrap_err().to_string()
    }

    #[test]
    fn unsupported_and_broken_intrinsics_say_where() {
        assert_eq!(
            error_of("      SlackChannelId: !Base64 abc"),
            format!(
                "Resources/Alerts/Properties/SlackChannelId: Fn::Base64 is not supported by chatops plan; it handles {SUPPORTED}"
            )
        );
        assert!(
            error_of("      P: !Ref Nope")
                .starts_with("Resources/Alerts/Properties/P: Ref to \"Nope\", which is neither")
        );
        assert!(
            error_of("      P: !GetAtt Nope.Arn").contains("\"Nope\", which is not a resource")
        );
        assert!(
            error_of("      P: [!Select [5, [a, b]]]").starts_with(
                "Resources/Alerts/Properties/P/0: Fn::Select: index 5 is out of range"
            )
        );
        assert!(
            error_of("      P: !If [Missing, a, b]")
                .contains("condition \"Missing\" is not declared")
        );
        assert!(error_of("      P: !Sub \"${Unclosed\"").contains("unterminated"));
        assert!(error_of("      P: !FindInMap [M, a, b]").contains("no mapping \"M\""));
        assert!(
            error_of("      P: !Ref AWS::Nope").contains("AWS::Nope is not a pseudo parameter")
        );
    }

    #[test]
    fn condition_cycles_and_unknowns_are_refused() {
        let t = Template::parse(
            "Conditions:\n  A: !Not [!Condition B]\n  B: !Not [!Condition A]\nResources: {}\n",
            "t.yaml",
        )
        .unwrap();
        let err = resolver(&t, &[]).unwrap_err().to_string();
        assert!(err.contains("cycle: A -> B -> A"), "{err}");
        let t = Template::parse(
            "Conditions:\n  A: !Equals [!GetAtt R.Arn, x]\nResources:\n  R: {Type: AWS::SNS::Topic}\n",
            "t.yaml",
        )
        .unwrap();
        let err = resolver(&t, &[]).unwrap_err().to_string();
        assert!(
            err.starts_with("Conditions/A: Fn::Equals compares a value known only after apply"),
            "{err}"
        );
    }
}
