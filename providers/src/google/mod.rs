//! The `google` provider (like hashicorp/google): Secret Manager secrets, versions and IAM
//! members, and Cloud Run v2 services and their IAM members.

pub mod auth;
pub mod convert;
pub mod errors;
pub mod names;
pub mod timeouts;
