//! Hash and UUID functions: `md5`, `sha1`, `sha256`, `sha512` (lowercase hex of the UTF-8
//! bytes), `base64sha256`, `base64sha512` (base64 of the raw digest) and the deterministic
//! `uuidv5`.
//!
//! Non-deterministic functions (`uuid`, `timestamp`, `bcrypt`) are deliberately absent: they
//! would make every plan show a change.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::{def, p, Args, FuncDef, FunctionError, Kind};
use crate::value::Value;

pub(super) const FUNCTIONS: &[FuncDef] = &[
    def("md5", &[p("str", Kind::String)], md5_fn),
    def("sha1", &[p("str", Kind::String)], sha1_fn),
    def("sha256", &[p("str", Kind::String)], sha256_fn),
    def("sha512", &[p("str", Kind::String)], sha512_fn),
    def("base64sha256", &[p("str", Kind::String)], base64sha256),
    def("base64sha512", &[p("str", Kind::String)], base64sha512),
    def("uuidv5", &[p("namespace", Kind::String), p("name", Kind::String)], uuidv5),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn md5_fn(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(hex(&Md5::digest(a.str(0).as_bytes()))))
}

fn sha1_fn(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(hex(&Sha1::digest(a.str(0).as_bytes()))))
}

fn sha256_fn(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(hex(&Sha256::digest(a.str(0).as_bytes()))))
}

fn sha512_fn(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(hex(&Sha512::digest(a.str(0).as_bytes()))))
}

fn base64sha256(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(STANDARD.encode(Sha256::digest(a.str(0).as_bytes()))))
}

fn base64sha512(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(STANDARD.encode(Sha512::digest(a.str(0).as_bytes()))))
}

/// `uuidv5(namespace, name)`: the namespace is `dns`, `url`, `oid`, `x500` or a UUID.
fn uuidv5(a: Args) -> Result<Value, FunctionError> {
    let ns = match a.str(0) {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|_| {
            FunctionError::at(
                0,
                format!("uuidv5() doesn't support namespace {}; use dns, url, oid, x500 or a UUID", a.show(other)),
            )
        })?,
    };
    Ok(Value::String(uuid::Uuid::new_v5(&ns, a.str(1).as_bytes()).to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[test]
    fn digests_of_known_inputs() {
        assert_eq!(ok("md5", vec![s("hello world")]), s("5eb63bbbe01eeed093cb22bb8f5acdc3"));
        assert_eq!(ok("sha1", vec![s("hello world")]), s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"));
        assert_eq!(
            ok("sha256", vec![s("hello world")]),
            s("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            ok("sha512", vec![s("hello world")]),
            s("309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f")
        );
        assert_eq!(ok("base64sha256", vec![s("hello world")]), s("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="));
        assert_eq!(
            ok("base64sha512", vec![s("hello world")]),
            s("MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==")
        );
        assert_eq!(ok("sha256", vec![s("")]), s("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    }

    #[test]
    fn uuidv5_is_deterministic() {
        assert_eq!(ok("uuidv5", vec![s("dns"), s("www.terraform.io")]), s("a5008fae-b28c-5ba5-96cd-82b4c53552d6"));
        assert_eq!(
            ok("uuidv5", vec![s("url"), s("https://www.terraform.io/")]),
            s("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5")
        );
        assert_eq!(
            ok("uuidv5", vec![s("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), s("www.terraform.io")]),
            s("a5008fae-b28c-5ba5-96cd-82b4c53552d6"),
            "explicit namespace UUID equals the dns shorthand"
        );
        assert!(err("uuidv5", vec![s("bogus"), s("x")]).contains("doesn't support namespace \"bogus\""));
    }
}
