//! Property types shared by every resource type.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
