//! End-to-end tests of the `tenantform` binary on real stacks.

mod support;

mod cloud;
mod fixtures;
