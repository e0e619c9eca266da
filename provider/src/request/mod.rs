//! The request path: a CloudFormation custom resource request in, its answer
//! out. [`lambda`] runs the Lambda loop; [`handler`] answers every request of
//! an event whatever happens; [`event`] decodes what arrives; [`provenance`]
//! has CloudFormation confirm each request; [`lifecycle`] carries it out for
//! one resource type; [`response`] and [`response_url`] send the answer.

pub mod adoption;
pub mod event;
pub mod handler;
pub mod lambda;
pub mod lifecycle;
pub mod provenance;
pub mod response;
pub mod response_url;
#[cfg(test)]
mod tests;
