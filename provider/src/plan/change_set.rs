//! Planning a CloudFormation change set: what executing it would do, told
//! property by property with replacements and drift, which the change set
//! itself cannot say for custom resources (it shows a bare `Modify`).
//!
//! The change set's template (GetTemplate with ChangeSetName, stage
//! Processed: what CloudFormation deploys, transforms expanded) and its
//! parameters (DescribeChangeSet) are planned against the stack's deployed
//! template and parameters (GetTemplate, DescribeStacks) and the live
//! resources, exactly as `chatops plan --stack-name --deployed` plans a
//! template file. API: CloudFormation API Reference, DescribeChangeSet,
//! GetTemplate (ChangeSetName, TemplateStage), DescribeStacks.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudformation::types::{ChangeSetStatus, Parameter, StackStatus, TemplateStage};

use crate::accounts::StackArn;
use crate::error::{Error, Result};
use crate::template::Template;

/// Which change set a plan explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetRef {
    /// The change set's name.
    pub name: String,
    /// Its ARN (ChangeSetId).
    pub id: String,
    /// The stack's name.
    pub stack_name: String,
    /// The stack's StackId.
    pub stack_id: String,
    /// Its ExecutionStatus (AVAILABLE, OBSOLETE, ...).
    pub execution_status: String,
}

/// Where a change set is, from what the command line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetLocation {
    /// The change set's ARN or name.
    pub change_set: String,
    /// The stack's name or StackId, when given.
    pub stack: Option<String>,
    /// The account, when the ARN of the change set or the stack names it.
    pub account_id: Option<String>,
    /// The region, when the ARN names it.
    pub region: Option<String>,
    /// The partition, when the ARN names it.
    pub partition: Option<String>,
}

impl ChangeSetLocation {
    /// A change set named by its ARN (`arn:PARTITION:cloudformation:REGION:ACCOUNT:changeSet/NAME/ID`),
    /// or by its name with the stack's name or StackId.
    pub fn new(change_set: &str, stack: Option<&str>) -> Result<Self> {
        let from_arn = |arn: &str| -> Option<(String, String, String)> {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            (parts.len() == 6
                && parts[0] == "arn"
                && parts[2] == "cloudformation"
                && parts[5].starts_with("changeSet/"))
            .then(|| {
                (
                    parts[1].to_owned(),
                    parts[3].to_owned(),
                    parts[4].to_owned(),
                )
            })
        };
        let (partition, region, account_id) = if change_set.starts_with("arn:") {
            let Some(parts) = from_arn(change_set) else {
                return Err(Error::InvalidRequest(format!(
                    "--change-set {change_set:?} is not a change set ARN \
                     (arn:aws:cloudformation:REGION:ACCOUNT:changeSet/NAME/ID); give the ARN, or the name with --stack-name"
                )));
            };
            crate::accounts::check_account_id(&parts.2)?;
            (Some(parts.0), Some(parts.1), Some(parts.2))
        } else {
            match stack {
                None => {
                    return Err(Error::InvalidRequest(format!(
                        "--change-set {change_set:?} is a name: give its stack with --stack-name, or give the change set's ARN"
                    )));
                }
                Some(stack) if stack.starts_with("arn:") => {
                    let arn = StackArn::parse(stack)?;
                    (Some(arn.partition), Some(arn.region), Some(arn.account_id))
                }
                Some(_) => (None, None, None),
            }
        };
        Ok(ChangeSetLocation {
            change_set: change_set.to_owned(),
            stack: stack.map(str::to_owned),
            account_id,
            region,
            partition,
        })
    }
}

/// What a plan of a change set needs from CloudFormation.
#[derive(Debug, Clone)]
pub struct ChangeSetInputs {
    /// Which change set.
    pub reference: ChangeSetRef,
    /// The change set's template.
    pub template: Template,
    /// The change set's parameter values.
    pub parameters: BTreeMap<String, String>,
    /// The stack's deployed template; none for a change set that creates the stack.
    pub deployed: Option<Template>,
    /// The stack's parameter values.
    pub deployed_parameters: BTreeMap<String, String>,
    /// NoEcho parameters, whose values CloudFormation shows as `****`.
    pub hidden_parameters: BTreeSet<String>,
}

/// CloudFormation's mask of a NoEcho parameter value (DescribeStacks, DescribeChangeSet).
const MASKED: &str = "****";

fn parameter_values(
    parameters: &[Parameter],
    hidden: &mut BTreeSet<String>,
) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for parameter in parameters {
        let Some(key) = parameter.parameter_key() else {
            continue;
        };
        // An SSM parameter type: the value deployed is the resolved one.
        let value = parameter
            .resolved_value()
            .or(parameter.parameter_value())
            .unwrap_or_default();
        if value == MASKED {
            hidden.insert(key.to_owned());
        } else {
            values.insert(key.to_owned(), value.to_owned());
        }
    }
    values
}

/// Reads the change set at `location` with `client` (in the change set's
/// account and region).
pub async fn read(
    client: &aws_sdk_cloudformation::Client,
    location: &ChangeSetLocation,
) -> Result<ChangeSetInputs> {
    let what = format!("change set {}", location.change_set);
    let described = client
        .describe_change_set()
        .change_set_name(&location.change_set)
        .set_stack_name(location.stack.clone())
        .send()
        .await
        .map_err(|e| Error::from_sdk("cloudformation", "DescribeChangeSet", &what, e))?;
    let status = described.status().cloned();
    if status != Some(ChangeSetStatus::CreateComplete) {
        return Err(Error::InvalidRequest(format!(
            "{what} is {} ({}): only a change set CloudFormation finished making (CREATE_COMPLETE) can be executed, \
             so there is nothing to plan; wait for it, or make it again",
            status.as_ref().map_or("of unknown status", |s| s.as_str()),
            described.status_reason().unwrap_or("no reason given"),
        )));
    }
    let (Some(id), Some(stack_id)) = (described.change_set_id(), described.stack_id()) else {
        return Err(Error::InvalidRequest(format!(
            "DescribeChangeSet of {what} answered no ChangeSetId or StackId"
        )));
    };
    let reference = ChangeSetRef {
        name: described
            .change_set_name()
            .unwrap_or(&location.change_set)
            .to_owned(),
        id: id.to_owned(),
        stack_name: described.stack_name().unwrap_or_default().to_owned(),
        stack_id: stack_id.to_owned(),
        execution_status: described
            .execution_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    };
    let mut hidden_parameters = BTreeSet::new();
    let parameters = parameter_values(described.parameters(), &mut hidden_parameters);

    let body = client
        .get_template()
        .change_set_name(id)
        .template_stage(TemplateStage::Processed)
        .send()
        .await
        .map_err(|e| Error::from_sdk("cloudformation", "GetTemplate", &what, e))?;
    let template = Template::parse(
        body.template_body().unwrap_or_default(),
        &format!("change set {}", reference.name),
    )?;

    let stack_what = format!("stack {}", reference.stack_name);
    let stacks = client
        .describe_stacks()
        .stack_name(stack_id)
        .send()
        .await
        .map_err(|e| Error::from_sdk("cloudformation", "DescribeStacks", &stack_what, e))?;
    let stack = stacks
        .stacks()
        .first()
        .ok_or_else(|| Error::NotFound(format!("{stack_what} does not exist")))?;
    // A change set of type CREATE: the stack is only in review, nothing is deployed.
    let (deployed, deployed_parameters) =
        if stack.stack_status() == Some(&StackStatus::ReviewInProgress) {
            (None, BTreeMap::new())
        } else {
            let body = client
                .get_template()
                .stack_name(stack_id)
                .template_stage(TemplateStage::Processed)
                .send()
                .await
                .map_err(|e| Error::from_sdk("cloudformation", "GetTemplate", &stack_what, e))?;
            let deployed = Template::parse(
                body.template_body().unwrap_or_default(),
                &format!("stack {} as deployed", reference.stack_name),
            )?;
            let values = parameter_values(stack.parameters(), &mut hidden_parameters);
            (Some(deployed), values)
        };
    Ok(ChangeSetInputs {
        reference,
        template,
        parameters,
        deployed,
        deployed_parameters,
        hidden_parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:cloudformation:eu-west-1:100000000001:changeSet/review/0a1b";

    #[test]
    fn an_arn_names_the_account_and_region() {
        let location = ChangeSetLocation::new(ARN, None).unwrap();
        assert_eq!(location.account_id.as_deref(), Some("100000000001"));
        assert_eq!(location.region.as_deref(), Some("eu-west-1"));
        assert_eq!(location.partition.as_deref(), Some("aws"));
    }

    #[test]
    fn a_name_needs_its_stack_and_a_stack_arn_names_the_account() {
        let error = ChangeSetLocation::new("review", None).unwrap_err();
        assert!(error.to_string().contains("--stack-name"), "{error}");
        let by_name = ChangeSetLocation::new("review", Some("app")).unwrap();
        assert_eq!(by_name.account_id, None);
        let by_arn = ChangeSetLocation::new(
            "review",
            Some("arn:aws:cloudformation:us-east-1:100000000002:stack/app/guid"),
        )
        .unwrap();
        assert_eq!(by_arn.account_id.as_deref(), Some("100000000002"));
        assert_eq!(by_arn.region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn a_malformed_arn_says_what_is_expected() {
        let error = ChangeSetLocation::new("arn:aws:cloudformation:eu-west-1:1:stack/x/y", None)
            .unwrap_err();
        assert!(error.to_string().contains("changeSet/NAME/ID"), "{error}");
    }

    #[test]
    fn masked_values_are_hidden_not_used() {
        let parameters = [
            Parameter::builder()
                .parameter_key("Hook")
                .parameter_value("****")
                .build(),
            Parameter::builder()
                .parameter_key("Level")
                .parameter_value("ERROR")
                .build(),
        ];
        let mut hidden = BTreeSet::new();
        let values = parameter_values(&parameters, &mut hidden);
        assert_eq!(values, BTreeMap::from([("Level".into(), "ERROR".into())]));
        assert_eq!(hidden, BTreeSet::from(["Hook".to_owned()]));
    }
}
