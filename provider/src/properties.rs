//! Property types shared by every resource type.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The prefix of the tags the provider puts on what it creates. Users may not set them.
pub const MANAGED_TAG_PREFIX: &str = "chatops:";
/// Tag holding the StackId of the stack that owns a resource.
pub const STACK_ID_TAG: &str = "chatops:stack-id";
/// Tag holding the LogicalResourceId that owns a resource.
pub const LOGICAL_ID_TAG: &str = "chatops:logical-id";

/// Properties every `Custom::` type accepts besides its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct CommonProperties {
    /// The 12-digit account to create the resource in. Defaults to the account of the stack.
    /// Another account is allowed only for stacks in an admin account of the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub account_id: Option<String>,
    /// The region whose service endpoint is called: one where the type's service is served (AWS Chatbot: us-east-2, us-west-2, eu-west-1, ap-southeast-1; AWS Support App: us-east-1, us-west-2, eu-west-1). Defaults to the provider's choice: its own region if served, else the nearest served one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"))]
    pub region: Option<String>,
    /// Take over what already exists with this resource's name (made in the console, owned by no stack) instead of failing the Create: true or false, default false. Only a stack in the account it names may adopt; the template's settings are then applied and, for AWS Chatbot, the ownership tags added. Never takes over what another stack owns. Changing it later changes nothing. `chatops import` writes templates with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopt: Option<bool>,
}

/// The property that asks a Create to adopt what exists: it steers the
/// provider once and is never part of the live resource.
pub const ADOPT: &str = "Adopt";

/// A key-value tag, as in every native CloudFormation type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Tag {
    /// The tag key, 1 to 128 characters; keys starting with `chatops:` are reserved for the provider.
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^(?!chatops:).*$"))]
    pub key: String,
    /// The tag value, up to 256 characters.
    #[schemars(length(max = 256))]
    pub value: String,
}

/// Who asked for a resource: the stack and logical id that own it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The CloudFormation StackId.
    pub stack_id: String,
    /// The LogicalResourceId in that stack.
    pub logical_id: String,
}

impl Owner {
    /// The managed tags that mark a resource as this owner's.
    pub fn managed_tags(&self) -> Vec<Tag> {
        vec![
            Tag {
                key: STACK_ID_TAG.to_owned(),
                value: self.stack_id.clone(),
            },
            Tag {
                key: LOGICAL_ID_TAG.to_owned(),
                value: self.logical_id.clone(),
            },
        ]
    }

    /// The owner that `tags` name, when they carry both managed tags.
    pub fn from_tags(tags: &[Tag]) -> Option<Owner> {
        let tag = |key: &str| tags.iter().find(|t| t.key == key).map(|t| t.value.clone());
        Some(Owner {
            stack_id: tag(STACK_ID_TAG)?,
            logical_id: tag(LOGICAL_ID_TAG)?,
        })
    }

    /// True when `tags` carry exactly this owner's managed tags.
    pub fn owns(&self, tags: &[Tag]) -> bool {
        let has = |key: &str, value: &str| tags.iter().any(|t| t.key == key && t.value == value);
        has(STACK_ID_TAG, &self.stack_id) && has(LOGICAL_ID_TAG, &self.logical_id)
    }
}

/// Splits live tags into the user's tags and the provider's managed tags.
pub fn user_tags(tags: &[Tag]) -> Vec<Tag> {
    let mut user: Vec<Tag> = tags
        .iter()
        .filter(|t| !t.key.starts_with(MANAGED_TAG_PREFIX))
        .cloned()
        .collect();
    user.sort();
    user
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            stack_id: "arn:aws:cloudformation:us-east-1:100000000001:stack/app/1".into(),
            logical_id: "Alerts".into(),
        }
    }

    #[test]
    fn owns_only_with_both_tags_matching() {
        let tags = owner().managed_tags();
        assert!(owner().owns(&tags));
        let other = Owner {
            logical_id: "Other".into(),
            ..owner()
        };
        assert!(!other.owns(&tags));
        assert!(!owner().owns(&tags[..1]));
    }

    #[test]
    fn the_owner_is_read_back_from_both_tags() {
        assert_eq!(Owner::from_tags(&owner().managed_tags()), Some(owner()));
        assert_eq!(Owner::from_tags(&owner().managed_tags()[1..]), None);
        assert_eq!(Owner::from_tags(&[]), None);
    }

    #[test]
    fn user_tags_drop_managed_ones_and_sort() {
        let mut tags = owner().managed_tags();
        tags.push(Tag {
            key: "team".into(),
            value: "b".into(),
        });
        tags.push(Tag {
            key: "app".into(),
            value: "a".into(),
        });
        let keys: Vec<_> = user_tags(&tags).into_iter().map(|t| t.key).collect();
        assert_eq!(keys, ["app", "team"]);
    }
}
