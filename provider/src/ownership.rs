//! Who owns a resource: the managed tags the provider puts on what a stack
//! makes, and the one rule that reads them, for the request path (may this
//! request change that resource?) and for the plan (whose is this live
//! resource?).

use crate::properties::Tag;

/// The prefix of the tags the provider puts on what it creates. Users may not set them.
pub const MANAGED_TAG_PREFIX: &str = "chatops:";
/// Tag holding the StackId of the stack that owns a resource.
pub const STACK_ID_TAG: &str = "chatops:stack-id";
/// Tag holding the LogicalResourceId that owns a resource.
pub const LOGICAL_ID_TAG: &str = "chatops:logical-id";

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

    /// The owner the managed tags among `tags` name, if they name one.
    pub fn of_tags(tags: &[Tag]) -> Option<Owner> {
        let tag = |key: &str| tags.iter().find(|t| t.key == key).map(|t| t.value.clone());
        Some(Owner {
            stack_id: tag(STACK_ID_TAG)?,
            logical_id: tag(LOGICAL_ID_TAG)?,
        })
    }

    /// True when `tags` name exactly this owner: the same stack (its StackId,
    /// so a stack deleted and made again under the same name owns nothing of
    /// the old one's) and the same logical id.
    pub fn owns(&self, tags: &[Tag]) -> bool {
        Owner::of_tags(tags).as_ref() == Some(self)
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

/// Which live resources a planned stack owns: one rule with the deploy's
/// ([`Owner::owns`]), so that the plan predicts what the Lambda will do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Ownership {
    /// The plan names no stack, so it cannot tell whose a resource is: it
    /// compares by natural key (`chatops diff`, a template planned alone).
    #[default]
    Unknown,
    /// The stack with this StackId owns what carries its tags; `None` is a
    /// stack that does not exist yet, which owns nothing. A stack deleted and
    /// made again under the same name is another stack: what the old one
    /// left behind (DeletionPolicy Retain) is not the new one's.
    Stack(Option<String>),
}

impl Ownership {
    /// Who owns a live resource with `tags`.
    pub fn owner_of(&self, tags: &[Tag]) -> Owned {
        let Ownership::Stack(planned) = self else {
            return Owned::Unknown;
        };
        match Owner::of_tags(tags) {
            None => Owned::Unmanaged,
            Some(owner) if planned.as_deref() == Some(owner.stack_id.as_str()) => {
                Owned::Ours(owner.logical_id)
            }
            Some(owner) => Owned::Other {
                stack: owner.stack_id,
                logical_id: owner.logical_id,
            },
        }
    }

    /// Whether the plan knows which stack is its own.
    pub fn is_known(&self) -> bool {
        matches!(self, Ownership::Stack(_))
    }
}

/// Who owns a live resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    /// The planned stack, as this logical id.
    Ours(String),
    /// Another stack.
    Other {
        /// Its StackId.
        stack: String,
        /// The logical id there.
        logical_id: String,
    },
    /// Nobody: it was not made through this provider.
    Unmanaged,
    /// The plan does not know its own stack, so it cannot tell.
    Unknown,
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

    const STACK: &str = "arn:aws:cloudformation:us-east-1:100000000001:stack/app/1";

    fn tags_of(stack_id: &str) -> Vec<Tag> {
        Owner {
            stack_id: stack_id.into(),
            logical_id: "Alerts".into(),
        }
        .managed_tags()
    }

    #[test]
    fn the_plan_reads_ownership_as_the_deploy_does() {
        let planned = Ownership::Stack(Some(STACK.into()));
        assert_eq!(
            planned.owner_of(&tags_of(STACK)),
            Owned::Ours("Alerts".into())
        );
        assert!(owner().owns(&tags_of(STACK)));
        assert_eq!(planned.owner_of(&[]), Owned::Unmanaged);
        assert!(!owner().owns(&[]));
        // The same stack name made again is another stack: its StackId differs.
        let recreated = STACK.replace("/app/1", "/app/2");
        assert!(matches!(
            planned.owner_of(&tags_of(&recreated)),
            Owned::Other { stack, .. } if stack == recreated
        ));
        assert!(!owner().owns(&tags_of(&recreated)));
        // A stack that does not exist yet owns nothing.
        assert!(matches!(
            Ownership::Stack(None).owner_of(&tags_of(STACK)),
            Owned::Other { .. }
        ));
        assert_eq!(Ownership::Unknown.owner_of(&tags_of(STACK)), Owned::Unknown);
    }
}
