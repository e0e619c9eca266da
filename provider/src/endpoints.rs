//! Which region's endpoint each service is called in.
//!
//! AWS Chatbot and the AWS Support App are not served in every region: their
//! APIs answer only where AWS runs an endpoint for them, so a provider
//! deployed elsewhere (us-east-1, the most common home region, has no Chatbot
//! endpoint) calls the nearest region that serves the API. Chatbot's
//! configurations are global to the account (their ARNs have no region) and
//! a Support App configuration belongs to the account, so the endpoint region
//! changes where the call goes, not what it acts on. SNS and IAM are served
//! everywhere and stay in the topic's and the provider's own regions.
//!
//! Sources:
//! - AWS General Reference, "Amazon Q Developer in chat applications
//!   (AWS Chatbot) endpoints and quotas"
//!   (<https://docs.aws.amazon.com/general/latest/gr/chatbot.html>):
//!   chatbot.us-east-2, us-west-2, eu-west-1 and ap-southeast-1 amazonaws.com.
//! - botocore `data/endpoints.json` (1.44), service `supportapp`, partition
//!   `aws`: eu-west-1, us-east-1 and us-west-2, the page the Support App API
//!   reference points to ("AWS Support App in Slack endpoints", AWS General
//!   Reference). Neither service lists an endpoint in the aws-cn or
//!   aws-us-gov partitions.

use crate::error::{Error, Result};

/// A service whose API is served in a few regions only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// AWS Chatbot (`chatbot`).
    Chatbot,
    /// AWS Support App (`supportapp`).
    SupportApp,
}

impl Service {
    /// The service's name as its documentation spells it.
    pub fn name(self) -> &'static str {
        match self {
            Service::Chatbot => "AWS Chatbot",
            Service::SupportApp => "the AWS Support App",
        }
    }

    /// The regions with an endpoint for the service's API.
    pub fn served_regions(self) -> &'static [&'static str] {
        match self {
            Service::Chatbot => &["us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1"],
            Service::SupportApp => &["us-east-1", "us-west-2", "eu-west-1"],
        }
    }

    /// The provider setting (environment variable) that chooses the region
    /// the service is called in when a resource names none.
    pub fn setting(self) -> &'static str {
        match self {
            Service::Chatbot => "CHATOPS_CHATBOT_REGION",
            Service::SupportApp => "CHATOPS_SUPPORTAPP_REGION",
        }
    }

    /// True when `region` has an endpoint for the service.
    pub fn serves(self, region: &str) -> bool {
        self.served_regions().contains(&region)
    }

    /// `region` itself when it serves the API, else the served region nearest
    /// to it by geography: the Americas' west coast to us-west-2, the rest of
    /// the Americas to Ohio (Chatbot) or N. Virginia (Support App), Europe,
    /// the Middle East and Africa to Ireland, Asia Pacific to Singapore
    /// (Chatbot) or to Oregon (Support App; South Asia to Ireland). `None`
    /// for a partition where the service has no endpoint (aws-cn,
    /// aws-us-gov, the isolated regions).
    pub fn nearest(self, region: &str) -> Option<&'static str> {
        if let Some(served) = self.served_regions().iter().find(|r| **r == region) {
            return Some(served);
        }
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| region.starts_with(p));
        if starts(&["us-gov-", "us-iso", "cn-"]) || !is_region_name(region) {
            return None;
        }
        let west = starts(&["us-west-", "ca-west-"]);
        let americas = starts(&["us-", "ca-", "sa-", "mx-"]);
        let emea = starts(&["eu-", "me-", "il-", "af-"]);
        let asia = starts(&["ap-"]);
        match self {
            Service::Chatbot if west => Some("us-west-2"),
            Service::Chatbot if americas => Some("us-east-2"),
            Service::Chatbot if emea => Some("eu-west-1"),
            Service::Chatbot if asia => Some("ap-southeast-1"),
            Service::SupportApp if west => Some("us-west-2"),
            Service::SupportApp if americas => Some("us-east-1"),
            Service::SupportApp if emea || starts(&["ap-south-"]) => Some("eu-west-1"),
            Service::SupportApp if asia => Some("us-west-2"),
            _ => None,
        }
    }

    /// The region the service is called in for a provider in `own_region`:
    /// the `configured` one (the provider setting) when given, else the
    /// provider's own when it serves the API, else the nearest served one.
    pub fn default_region(self, own_region: &str, configured: Option<&str>) -> Result<String> {
        if let Some(configured) = configured {
            if !self.serves(configured) {
                return Err(Error::InvalidRequest(format!(
                    "the provider setting {}={configured:?} is not a region where {} is served; set it \
                     to one of {} (or leave it unset to use the nearest one)",
                    self.setting(),
                    self.name(),
                    self.served_regions().join(", ")
                )));
            }
            return Ok(configured.to_owned());
        }
        self.nearest(own_region).map(str::to_owned).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "{} has no endpoint near the provider's region {own_region:?}; set the provider \
                     setting {} to one of {}",
                self.name(),
                self.setting(),
                self.served_regions().join(", ")
            ))
        })
    }

    /// Checks the `Region` property of a resource of this service: a region
    /// name where the service is served.
    pub fn check_region_property(self, region: &str) -> Result<()> {
        check_region_name(region)?;
        if !self.serves(region) {
            return Err(Error::invalid_property(
                "Region",
                format!(
                    "{region:?} has no {} endpoint; {} is served in {} only: name one of them, or \
                     leave Region out to use the provider's choice",
                    self.name(),
                    self.name(),
                    self.served_regions().join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// Refuses a `Region` that is not a region name (such as a host name, which
/// the SDK would turn into the endpoint it connects to).
pub fn check_region_name(region: &str) -> Result<()> {
    if is_region_name(region) {
        return Ok(());
    }
    Err(Error::invalid_property(
        "Region",
        format!(
            "{region:?} is not an AWS region name (such as us-east-2: lowercase words and a number \
             joined by dashes); name a region, not a host or URL, or leave Region out"
        ),
    ))
}

/// True for an AWS region name: `xx(-word)+-N`, such as `us-east-2` or
/// `us-gov-west-1`. Letters, digits and dashes only, so it can never carry a
/// host, a port or userinfo into an endpoint URL.
pub fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    words.len() >= 2
        && words[0].len() == 2
        && words.iter().all(|w| lower(w))
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_and_what_is_not_one() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-1",
            "eu-central-2",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "x@127.0.0.1:8080/",
            "127.0.0.1",
            "us-east-1.evil.example",
            "US-EAST-1",
            "us-east",
            "useast1",
            "us-east-1:443",
            "us--1",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
        let err = check_region_name("x@127.0.0.1:8080/")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Region") && err.contains("not an AWS region name"),
            "{err}"
        );
    }

    #[test]
    fn served_regions_call_themselves_and_others_the_nearest() {
        let chatbot = Service::Chatbot;
        assert_eq!(chatbot.nearest("us-east-1"), Some("us-east-2"));
        assert_eq!(chatbot.nearest("us-east-2"), Some("us-east-2"));
        assert_eq!(chatbot.nearest("us-west-1"), Some("us-west-2"));
        assert_eq!(chatbot.nearest("ca-central-1"), Some("us-east-2"));
        assert_eq!(chatbot.nearest("eu-central-1"), Some("eu-west-1"));
        assert_eq!(chatbot.nearest("me-south-1"), Some("eu-west-1"));
        assert_eq!(chatbot.nearest("ap-northeast-1"), Some("ap-southeast-1"));
        assert_eq!(chatbot.nearest("cn-north-1"), None);
        assert_eq!(chatbot.nearest("us-gov-west-1"), None);
        let support = Service::SupportApp;
        assert_eq!(support.nearest("us-east-1"), Some("us-east-1"));
        assert_eq!(support.nearest("us-east-2"), Some("us-east-1"));
        assert_eq!(support.nearest("ap-southeast-1"), Some("us-west-2"));
        assert_eq!(support.nearest("ap-south-1"), Some("eu-west-1"));
        assert_eq!(support.nearest("eu-north-1"), Some("eu-west-1"));
        // Every answer is a served region.
        for service in [chatbot, support] {
            for region in [
                "us-east-1",
                "sa-east-1",
                "af-south-1",
                "ap-southeast-2",
                "il-central-1",
            ] {
                let near = service.nearest(region).unwrap();
                assert!(service.serves(near), "{service:?} {region} -> {near}");
            }
        }
    }

    #[test]
    fn the_setting_wins_and_must_be_served() {
        let chatbot = Service::Chatbot;
        assert_eq!(
            chatbot.default_region("us-east-1", None).unwrap(),
            "us-east-2"
        );
        assert_eq!(
            chatbot
                .default_region("us-east-1", Some("eu-west-1"))
                .unwrap(),
            "eu-west-1"
        );
        let err = chatbot
            .default_region("us-east-1", Some("us-east-1"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CHATOPS_CHATBOT_REGION") && err.contains("us-east-2"),
            "{err}"
        );
        let err = chatbot
            .default_region("cn-north-1", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("CHATOPS_CHATBOT_REGION"), "{err}");
    }

    #[test]
    fn a_region_property_must_be_served() {
        Service::Chatbot.check_region_property("us-west-2").unwrap();
        let err = Service::Chatbot
            .check_region_property("us-east-1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Region")
                && err.contains("us-east-2, us-west-2, eu-west-1, ap-southeast-1"),
            "{err}"
        );
        let err = Service::SupportApp
            .check_region_property("ap-southeast-1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("us-east-1, us-west-2, eu-west-1"), "{err}");
        assert!(
            Service::SupportApp
                .check_region_property("evil.example")
                .is_err()
        );
    }
}
