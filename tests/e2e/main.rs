//! End-to-end tests of the `tenantform` binary on real stacks.

mod support;

mod cloud;
mod day2;
mod fixtures;
mod lifecycle;
mod plans;
mod postgres;
mod safety;
mod serverless;
