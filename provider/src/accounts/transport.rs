//! The HTTPS client every AWS service client of the provider shares.
//!
//! The provider makes service clients per request (one set per target
//! account, and an SNS client per topic region), and a plan makes them per
//! account. Left to itself, each service client would get an HTTPS client of
//! its own: new connections, and new TLS handshakes, on every request of a
//! warm Lambda; and making a client checks its HTTPS client by building a TLS
//! connector, which loads every trusted root certificate, a millisecond or
//! more each time. One shared client builds a connector once per timeout
//! settings, on first use, and keeps its connections.

use aws_sdk_sts::config::{
    ConfigBag, IntoShared, RuntimeComponents, RuntimeComponentsBuilder, SharedHttpClient,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};

/// The shared HTTPS client (rustls with aws-lc, the SDK's default).
pub fn shared_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    Prepared(
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .build_https(),
    )
    .into_shared()
}

/// An HTTPS client whose TLS connector is built on first use only, not each
/// time a service client is made with it.
#[derive(Debug, Clone)]
struct Prepared(SharedHttpClient);

impl HttpClient for Prepared {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        _: &RuntimeComponentsBuilder,
        _: &ConfigBag,
    ) -> Result<(), BoxError> {
        // The inner client's check builds (and drops) a TLS connector: the
        // connector is built, once, by the first request instead.
        Ok(())
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn service_clients_share_it_and_reach_an_endpoint() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for stream in listener.incoming().flatten().take(2) {
                let mut stream = stream;
                let mut buffer = [0; 4096];
                let _ = stream.read(&mut buffer);
                let body = r#"{"SlackWorkspaces":[]}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "AKID", "s", None, None, "t",
            ))
            .http_client(shared_https_client())
            .load()
            .await;
        for _ in 0..2 {
            let chatbot = aws_sdk_chatbot::Client::new(&config);
            let answer = chatbot.describe_slack_workspaces().send().await.unwrap();
            assert!(answer.slack_workspaces().is_empty());
        }
    }
}
