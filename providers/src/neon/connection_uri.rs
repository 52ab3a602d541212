//! `neon_connection_uri` (data source): the Postgres connection URI of a role and database on
//! a branch, with the password in it (sensitive), direct or through the pooler.

use async_trait::async_trait;
use serde_json::Value as Json;
use tenantform_engine::provider::{AttributeSchema, DataSourceType, OpContext, ProviderError, Schema};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{segment, Neon};
use crate::http::ApiRequest;
use crate::support::attrs::Attrs;

pub fn schema() -> Schema {
    Schema::new()
        .describe("The connection URI of a role and database on a Neon branch.")
        .attr("project_id", AttributeSchema::required(Type::String).describe("Project ID."))
        .attr("database_name", AttributeSchema::required(Type::String).describe("Database name."))
        .attr("role_name", AttributeSchema::required(Type::String).describe("Role name."))
        .attr(
            "branch_id",
            AttributeSchema::optional(Type::String).describe("Branch ID; the project's default branch when unset."),
        )
        .attr(
            "endpoint_id",
            AttributeSchema::optional(Type::String)
                .describe("Endpoint ID; the branch's read_write endpoint when unset."),
        )
        .attr(
            "pooled",
            AttributeSchema::optional(Type::Bool)
                .default(Value::Bool(false))
                .describe("Connect through the connection pooler (`-pooler` host). Default false."),
        )
        .attr(
            "uri",
            AttributeSchema::computed(Type::String).sensitive().describe("postgresql:// URI including the password."),
        )
}

pub struct ConnectionUri(pub Neon);

#[async_trait]
impl DataSourceType for ConnectionUri {
    async fn read(&self, config: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let a = Attrs::new(config);
        let project = segment(config, "project_id")?;
        let mut req = ApiRequest::get(format!("/projects/{project}/connection_uri"))
            .query("database_name", a.str("database_name")?)
            .query("role_name", a.str("role_name")?);
        if let Some(b) = a.opt_str("branch_id")? {
            req = req.query("branch_id", b);
        }
        if let Some(e) = a.opt_str("endpoint_id")? {
            req = req.query("endpoint_id", e);
        }
        let pooled = a.bool_or("pooled", false)?;
        if pooled {
            req = req.query("pooled", "true");
        }
        let j: Json = self.0.client.json(ctx, req).await?;
        let uri = j["uri"]
            .as_str()
            .ok_or_else(|| ProviderError::permanent("neon connection_uri: the answer has no `uri`"))?;
        let mut out = config.clone().unmark_deep();
        crate::support::diff::set(&mut out, "pooled", Value::Bool(pooled));
        crate::support::diff::set(&mut out, "uri", Value::string(uri));
        Ok(out)
    }
}
