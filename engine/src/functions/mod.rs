//! Placeholder until the function library lands (branch `functions`).
use std::path::Path;

use crate::value::Value;

pub struct FuncContext<'a> {
    pub base_dir: &'a Path,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionError {
    pub message: String,
    pub arg: Option<usize>,
}

pub fn exists(_name: &str) -> bool {
    false
}

pub fn names() -> impl Iterator<Item = &'static str> {
    std::iter::empty()
}

pub fn signature(_name: &str) -> Option<&'static str> {
    None
}

pub fn call(name: &str, _args: Vec<Value>, _ctx: &FuncContext) -> Result<Value, FunctionError> {
    Err(FunctionError { message: format!("unknown function {name}"), arg: None })
}
