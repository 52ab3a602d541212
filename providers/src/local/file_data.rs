//! `data "local_file"`: reads a file into `content` and its digests, with hashicorp/local's
//! attribute names (`content`, `content_base64`, `content_md5`, `content_sha256`,
//! `content_base64sha256`, `content_sha512`, `content_base64sha512`). A missing file is a
//! `NotFound` error naming the path.

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use md5::Md5;
use sha2::{Digest, Sha256, Sha512};
use tenantform_engine::provider::{AttributeSchema, DataSourceType, OpContext, ProviderError, Schema};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{absolute, io_err};
use crate::support::attrs::Attrs;
use crate::support::fs::hex;

pub fn schema() -> Schema {
    let c = |d: &str| AttributeSchema::computed(Type::String).describe(d);
    Schema::new()
        .describe("Reads a local file.")
        .attr(
            "filename",
            AttributeSchema::required(Type::String)
                .describe("Path of the file to read (relative paths are resolved against the working directory)."),
        )
        .attr("content", c("Raw content of the file, as UTF-8 (invalid sequences replaced)."))
        .attr("content_base64", c("Base64-encoded content (exact bytes)."))
        .attr("content_md5", c("MD5 of the content, hex."))
        .attr("content_sha256", c("SHA-256 of the content, hex."))
        .attr("content_base64sha256", c("SHA-256 of the content, base64."))
        .attr("content_sha512", c("SHA-512 of the content, hex."))
        .attr("content_base64sha512", c("SHA-512 of the content, base64."))
        .attr("id", c("SHA-256 of the content, hex."))
}

pub struct LocalFile;

#[async_trait]
impl DataSourceType for LocalFile {
    async fn read(&self, config: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let filename = Attrs::new(config).str("filename")?;
        let path = absolute(std::path::Path::new(filename))?;
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ProviderError::not_found(format!("no file at {}", path.display())))
            }
            Err(e) => return Err(io_err(format!("cannot read {}", path.display()), e)),
        };
        let sha256 = Sha256::digest(&bytes);
        let sha512 = Sha512::digest(&bytes);
        Ok(Value::map([
            ("filename", Value::string(filename)),
            ("content", Value::string(String::from_utf8_lossy(&bytes))),
            ("content_base64", Value::string(STANDARD.encode(&bytes))),
            ("content_md5", Value::string(hex(&Md5::digest(&bytes)))),
            ("content_sha256", Value::string(hex(&sha256))),
            ("content_base64sha256", Value::string(STANDARD.encode(sha256))),
            ("content_sha512", Value::string(hex(&sha512))),
            ("content_base64sha512", Value::string(STANDARD.encode(sha512))),
            ("id", Value::string(hex(&sha256))),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_content_and_digests() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("motd.txt");
        std::fs::write(&f, "abc").unwrap();
        let v = LocalFile
            .read(&Value::map([("filename", Value::string(f.to_string_lossy()))]), &OpContext::default())
            .await
            .unwrap();
        let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap().to_string();
        assert_eq!(get("content"), "abc");
        assert_eq!(get("content_base64"), "YWJj");
        assert_eq!(get("content_md5"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(get("content_sha256"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(get("content_base64sha256"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        assert!(get("content_sha512").starts_with("ddaf35a193617aba"));
        let e = LocalFile
            .read(&Value::map([("filename", Value::string("/nonexistent/x"))]), &OpContext::default())
            .await
            .unwrap_err();
        assert_eq!(e.kind, tenantform_engine::provider::ErrorKind::NotFound);
        assert!(e.summary.contains("/nonexistent/x"));
    }
}
