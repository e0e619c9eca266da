//! Which ResponseURLs the provider answers on: CloudFormation's pre-signed
//! S3 URLs, and nothing else.
//!
//! A request's ResponseURL is a claim of whoever published the message, like
//! every other field: answered blindly, it makes the provider PUT to a host of
//! the publisher's choosing (the Lambda Runtime API on loopback, a look-alike
//! host, userinfo that becomes a Basic auth header). CloudFormation answers
//! are uploaded to its own buckets, `cloudformation-custom-resource-response-`
//! followed by the region without dashes (CloudFormation User Guide, "Setting
//! up VPC endpoints for AWS CloudFormation", which names the buckets a VPC
//! endpoint policy must allow:
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-vpce-bucketnames.html>),
//! through the S3 endpoints of the aws, aws-cn and aws-us-gov partitions
//! (Amazon S3 User Guide, "Virtual hosting of buckets" and "Using dual-stack
//! endpoints"; AWS General Reference, "Amazon S3 endpoints"). Requests seen
//! in the wild use the forms `BUCKET.s3.amazonaws.com`,
//! `BUCKET.s3-us-west-2.amazonaws.com` and `BUCKET.s3.us-east-1.amazonaws.com`.
//!
//! So a ResponseURL must be `https`, without userinfo, on the default port,
//! with an S3 host of one of those buckets (virtual-hosted, or path-style with
//! the bucket first in the path). A local run answers the local cloud
//! instead: only its exact origin, and only when the provider setting
//! `CHATOPS_LOCAL_RESPONSE_ORIGIN` names it (the deployable templates never
//! set it). The response client never follows redirects ([`client`]).

use url::{Host, Url};

use crate::endpoints::is_region_name;

/// The bucket name of CloudFormation's custom resource responses, before the region.
const RESPONSE_BUCKET_PREFIX: &str = "cloudformation-custom-resource-response-";
/// The provider setting that allows one local origin (tests and demos only).
pub const LOCAL_ORIGIN_SETTING: &str = "CHATOPS_LOCAL_RESPONSE_ORIGIN";

/// Which ResponseURLs are answered.
#[derive(Debug, Clone)]
pub enum ResponseUrls {
    /// CloudFormation's response buckets, and the local origin when one is set.
    Checked {
        /// `CHATOPS_LOCAL_RESPONSE_ORIGIN`, as configured.
        local_origin: Option<String>,
    },
    /// Nothing is sent (`chatops invoke --no-send`): the URL is never contacted.
    NotSent,
}

impl ResponseUrls {
    /// CloudFormation's buckets, plus `local_origin` when given.
    pub fn checked(local_origin: Option<String>) -> Self {
        ResponseUrls::Checked { local_origin }
    }

    /// Why `url` may not be answered, or `Ok` when it may.
    pub fn check(&self, url: &str) -> Result<(), String> {
        match self {
            ResponseUrls::NotSent => Ok(()),
            ResponseUrls::Checked { local_origin } => check(url, local_origin.as_deref()),
        }
    }
}

/// Why `raw` is not a URL the provider answers on.
fn check(raw: &str, local_origin: Option<&str>) -> Result<(), String> {
    if raw.is_empty() {
        return Err("the request has no ResponseURL".to_owned());
    }
    let url = Url::parse(raw).map_err(|e| format!("the ResponseURL is not a URL ({e})"))?;
    // Never the whole URL in a message: its query is the pre-signed signature.
    let shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "the ResponseURL {shown} carries userinfo (user:password@), which CloudFormation never sends"
        ));
    }
    if let Some(local) = local_origin {
        let allowed = Url::parse(local)
            .ok()
            .filter(|l| l.has_host() && matches!(l.path(), "" | "/") && l.username().is_empty())
            .ok_or_else(|| {
                format!(
                    "the provider setting {LOCAL_ORIGIN_SETTING}={local:?} is not an origin \
                     (scheme://host:port); fix it or unset it"
                )
            })?;
        if url.origin() == allowed.origin() {
            return Ok(());
        }
    }
    if url.scheme() != "https" {
        return Err(format!(
            "the ResponseURL {shown} is not https; CloudFormation's response URLs are https URLs of its S3 buckets"
        ));
    }
    if url.port().is_some() {
        return Err(format!(
            "the ResponseURL {shown} names a port; CloudFormation's response URLs use the default https port"
        ));
    }
    let Some(Host::Domain(host)) = url.host() else {
        return Err(format!(
            "the ResponseURL {shown} has an IP address for a host; CloudFormation's response URLs name an S3 host"
        ));
    };
    let first_segment = url
        .path_segments()
        .and_then(|mut segments| segments.next())
        .unwrap_or_default();
    let bucket_region = match host.split_once('.') {
        Some((bucket, endpoint)) if bucket.starts_with(RESPONSE_BUCKET_PREFIX) => {
            s3_endpoint_region(endpoint).map(|region| (bucket, region))
        }
        _ => s3_endpoint_region(host).map(|region| (first_segment, region)),
    };
    match bucket_region {
        Some((bucket, endpoint_region)) if is_response_bucket(bucket, endpoint_region) => Ok(()),
        _ => Err(format!(
            "the ResponseURL {shown} is not one of CloudFormation's response buckets \
             ({RESPONSE_BUCKET_PREFIX}REGION on Amazon S3); only CloudFormation's own requests are answered"
        )),
    }
}

/// The region an S3 endpoint host names (`Some(None)` for the global
/// `s3.amazonaws.com`), or `None` when `host` is no S3 endpoint.
fn s3_endpoint_region(host: &str) -> Option<Option<&str>> {
    let (rest, china) = match host.strip_suffix(".amazonaws.com.cn") {
        Some(rest) => (rest, true),
        None => (host.strip_suffix(".amazonaws.com")?, false),
    };
    let region = match rest {
        "s3" | "s3-external-1" if !china => return Some(None),
        _ => [
            "s3.dualstack.",
            "s3-fips.dualstack.",
            "s3-fips.",
            "s3.",
            "s3-",
        ]
        .iter()
        .find_map(|prefix| rest.strip_prefix(prefix))?,
    };
    let in_partition = region.starts_with("cn-") == china;
    (is_region_name(region) && in_partition).then_some(Some(region))
}

/// True for `cloudformation-custom-resource-response-<region without dashes>`,
/// of the region the endpoint names when it names one.
fn is_response_bucket(bucket: &str, endpoint_region: Option<&str>) -> bool {
    let Some(region) = bucket.strip_prefix(RESPONSE_BUCKET_PREFIX) else {
        return false;
    };
    let shaped = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && region
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase())
        && region.bytes().last().is_some_and(|b| b.is_ascii_digit());
    shaped && endpoint_region.is_none_or(|r| r.replace('-', "") == region)
}

/// The HTTP client that PUTs responses: it never follows a redirect, so an
/// answer goes to the URL that was checked and nowhere else.
pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfn() -> ResponseUrls {
        ResponseUrls::checked(None)
    }

    #[test]
    fn cloudformations_own_urls_are_answered() {
        for url in [
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/app/guid%7CAlerts%7Creq?X-Amz-Signature=x",
            "https://cloudformation-custom-resource-response-uswest2.s3-us-west-2.amazonaws.com/key?AWSAccessKeyId=A&Signature=s",
            "https://cloudformation-custom-resource-response-useast2.s3.us-east-2.amazonaws.com/key",
            "https://cloudformation-custom-resource-response-euwest1.s3.dualstack.eu-west-1.amazonaws.com/key",
            "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/key",
            "https://cloudformation-custom-resource-response-usgovwest1.s3.us-gov-west-1.amazonaws.com/key",
            "https://cloudformation-custom-resource-response-usgovwest1.s3-fips.us-gov-west-1.amazonaws.com/key",
            "https://s3.us-east-2.amazonaws.com/cloudformation-custom-resource-response-useast2/key",
            "https://CloudFormation-Custom-Resource-Response-UsEast1.S3.AmazonAWS.com/key",
        ] {
            assert_eq!(cfn().check(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn anything_else_is_refused_and_says_why() {
        let cases = [
            ("", "no ResponseURL"),
            ("not a url", "not a URL"),
            (
                "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com@127.0.0.1:9/",
                "userinfo",
            ),
            (
                "https://user:pw@cloudformation-custom-resource-response-useast1.s3.amazonaws.com/k",
                "userinfo",
            ),
            (
                "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/k",
                "not https",
            ),
            (
                "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443/k",
                "port",
            ),
            (
                "https://127.0.0.1/2018-06-01/runtime/invocation/x/response",
                "IP address",
            ),
            ("https://[::1]/k", "IP address"),
            (
                "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.example/k",
                "response buckets",
            ),
            (
                "https://cloudformation-custom-resource-response-useast1.evil.example/k",
                "response buckets",
            ),
            (
                "https://attacker-bucket.s3.amazonaws.com/k",
                "response buckets",
            ),
            (
                "https://s3.amazonaws.com/attacker-bucket/cloudformation-custom-resource-response-useast1",
                "response buckets",
            ),
            (
                "https://cloudformation-custom-resource-response-useast1.s3.us-west-2.amazonaws.com/k",
                "response buckets",
            ),
            (
                "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com/k",
                "response buckets",
            ),
            (
                "https://cloudformation-custom-resource-response-.s3.amazonaws.com/k",
                "response buckets",
            ),
            (
                "https://cloudformation-custom-resource-response-useast1.s3.x@y.amazonaws.com/k",
                "userinfo",
            ),
            ("http://127.0.0.1:9001/k", "not https"),
        ];
        for (url, why) in cases {
            let err = cfn().check(url).unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
            assert!(!err.contains("X-Amz"), "{err}");
        }
    }

    #[test]
    fn the_local_origin_is_exact_and_explicit() {
        let local = ResponseUrls::checked(Some("http://127.0.0.1:4566".into()));
        assert_eq!(
            local.check("http://127.0.0.1:4566/bucket/key?sig=1"),
            Ok(())
        );
        for other in [
            "http://127.0.0.1:4567/bucket/key",
            "http://localhost:4566/bucket/key",
            "https://127.0.0.1:4566/bucket/key",
            "http://user@127.0.0.1:4566/bucket/key",
        ] {
            assert!(local.check(other).is_err(), "{other}");
        }
        assert!(cfn().check("http://127.0.0.1:4566/bucket/key").is_err());
        let broken = ResponseUrls::checked(Some("127.0.0.1:4566/path".into()));
        let err = broken.check("http://127.0.0.1:4566/x").unwrap_err();
        assert!(err.contains(LOCAL_ORIGIN_SETTING), "{err}");
        assert_eq!(ResponseUrls::NotSent.check(""), Ok(()));
    }

    /// A 307 from the answered URL is not followed: the target never hears of it.
    #[tokio::test]
    async fn redirects_are_not_followed() {
        use std::io::{Read, Write};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target_address = target.local_addr().unwrap();
        let contacts = Arc::new(AtomicUsize::new(0));
        {
            let contacts = contacts.clone();
            std::thread::spawn(move || {
                for _ in target.incoming() {
                    contacts.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        let redirector = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", redirector.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in redirector.incoming().flatten() {
                let mut stream = stream;
                let mut buffer = [0; 8192];
                let _ = stream.read(&mut buffer);
                let _ = write!(
                    stream,
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{target_address}/stolen\r\ncontent-length: 0\r\n\r\n"
                );
            }
        });
        let result = crate::request::response::send(
            &client().unwrap(),
            &format!("{origin}/r"),
            b"{}".to_vec(),
        )
        .await;
        let error = result.unwrap_err();
        assert!(error.contains("307"), "{error}");
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(
            contacts.load(Ordering::SeqCst),
            0,
            "the redirect was followed"
        );
    }
}
