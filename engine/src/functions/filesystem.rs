//! Filesystem functions: reading files that ship with the configuration (`file`,
//! `filebase64`, `fileexists`, and the `file*` hash shorthands) and lexical path helpers
//! (`basename`, `dirname`, `abspath`, `pathexpand`).
//!
//! Relative paths resolve against [`FuncContext::base_dir`](super::FuncContext), and a leading
//! `~` expands to the home directory, as in Terraform. The path helpers are purely lexical,
//! like Go's `path/filepath` on Unix: they never touch the disk. `pathexpand` (and `~` in file
//! paths) is the one place the engine reads the environment (`HOME`), because that is what the
//! function means.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::{def, p, Args, FuncDef, FunctionError, Kind};
use crate::value::Value;

const PATH: &[super::Param] = &[p("path", Kind::String)];

pub(super) const FUNCTIONS: &[FuncDef] = &[
    def("file", PATH, file),
    def("fileexists", PATH, fileexists),
    def("filebase64", PATH, filebase64),
    def("filemd5", PATH, filemd5),
    def("filesha1", PATH, filesha1),
    def("filesha256", PATH, filesha256),
    def("filesha512", PATH, filesha512),
    def("filebase64sha256", PATH, filebase64sha256),
    def("filebase64sha512", PATH, filebase64sha512),
    def("basename", PATH, basename),
    def("dirname", PATH, dirname),
    def("abspath", PATH, abspath),
    def("pathexpand", PATH, pathexpand),
];

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).map(PathBuf::from)
}

/// Expands a leading `~` or `~/`; `~user` forms are refused, as Terraform does.
fn expand_home(path: &str, a: &Args) -> Result<String, FunctionError> {
    if path != "~" && !path.starts_with("~/") {
        if path.starts_with('~') {
            return Err(FunctionError::at(
                0,
                format!("cannot expand user-specific home directory in {}", a.show(path)),
            ));
        }
        return Ok(path.to_string());
    }
    let home = home_dir()
        .ok_or_else(|| FunctionError::at(0, "cannot expand ~: the home directory is not known (HOME is unset)"))?;
    let home = home.to_string_lossy().trim_end_matches('/').to_string();
    Ok(format!("{home}{}", &path[1..]))
}

/// The file a path argument names: `~` expanded, relative paths joined to the base directory.
fn resolve(a: &Args) -> Result<PathBuf, FunctionError> {
    let expanded = expand_home(a.str(0), a)?;
    let path = Path::new(&expanded);
    Ok(if path.is_absolute() { path.to_path_buf() } else { a.ctx.base_dir.join(path) })
}

fn read(a: &Args) -> Result<Vec<u8>, FunctionError> {
    let path = resolve(a)?;
    let shown = a.show(&path.to_string_lossy());
    if path.is_dir() {
        return Err(FunctionError::at(0, format!("{shown} is a directory, not a file")));
    }
    std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FunctionError::at(
            0,
            format!(
                "no file exists at {shown}; this function reads only files that are part of the \
                 configuration, so a file created during apply must come from the attributes of \
                 the resource that creates it"
            ),
        ),
        _ => FunctionError::at(0, format!("cannot read {shown}: {e}")),
    })
}

fn file(a: Args) -> Result<Value, FunctionError> {
    let bytes = read(&a)?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        FunctionError::at(
            0,
            format!(
                "contents of {} are not valid UTF-8; use filebase64 to read the file as \
                 base64, or a hash function such as filesha256",
                a.show(&resolve(&a).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default())
            ),
        )
    })
}

fn filebase64(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(STANDARD.encode(read(&a)?)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn filemd5(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(hex(&Md5::digest(read(&a)?))))
}

fn filesha1(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(hex(&Sha1::digest(read(&a)?))))
}

fn filesha256(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(hex(&Sha256::digest(read(&a)?))))
}

fn filesha512(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(hex(&Sha512::digest(read(&a)?))))
}

fn filebase64sha256(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(STANDARD.encode(Sha256::digest(read(&a)?))))
}

fn filebase64sha512(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(STANDARD.encode(Sha512::digest(read(&a)?))))
}

/// True for an existing regular file, false when nothing exists there; anything else (a
/// directory, a permission problem) is an error rather than a silent false.
fn fileexists(a: Args) -> Result<Value, FunctionError> {
    let path = resolve(&a)?;
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(Value::Bool(true)),
        Ok(_) => {
            Err(FunctionError::at(0, format!("{} exists but is not a regular file", a.show(&path.to_string_lossy()))))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(e) => Err(FunctionError::at(0, format!("cannot stat {}: {e}", a.show(&path.to_string_lossy())))),
    }
}

/// Go's `filepath.Clean` for `/`-separated paths.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Base`: the last element, trailing slashes ignored.
fn basename(a: Args) -> Result<Value, FunctionError> {
    let path = a.str(0);
    if path.is_empty() {
        return Ok(Value::string("."));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Value::string("/"));
    }
    Ok(Value::string(trimmed.rsplit('/').next().unwrap_or(trimmed)))
}

/// Go's `filepath.Dir`: everything before the last element, cleaned.
fn dirname(a: Args) -> Result<Value, FunctionError> {
    let path = a.str(0);
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    };
    Ok(Value::String(clean(dir)))
}

fn abspath(a: Args) -> Result<Value, FunctionError> {
    let path = a.str(0);
    let joined = if Path::new(path).is_absolute() {
        path.to_string()
    } else {
        format!("{}/{path}", a.ctx.base_dir.to_string_lossy())
    };
    Ok(Value::String(clean(&joined.replace('\\', "/"))))
}

fn pathexpand(a: Args) -> Result<Value, FunctionError> {
    expand_home(a.str(0), &a).map(Value::String)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::testutil::*;
    use super::super::{call, FuncContext, FunctionError};
    use super::clean;
    use crate::value::Value;

    fn in_dir(dir: &Path, name: &str, args: Vec<Value>) -> Result<Value, FunctionError> {
        call(name, args, &FuncContext { base_dir: dir })
    }

    #[test]
    fn reads_files_relative_to_base_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hello.txt"), "Hello World").unwrap();
        std::fs::write(dir.path().join("bin.dat"), [0xff, 0x00, 0x10]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let d = dir.path();
        assert_eq!(in_dir(d, "file", vec![s("hello.txt")]).unwrap(), s("Hello World"));
        assert_eq!(in_dir(d, "file", vec![s("./sub/../hello.txt")]).unwrap(), s("Hello World"));
        let abs = d.join("hello.txt").to_string_lossy().into_owned();
        assert_eq!(in_dir(Path::new("/elsewhere"), "file", vec![s(&abs)]).unwrap(), s("Hello World"));
        assert_eq!(in_dir(d, "filebase64", vec![s("bin.dat")]).unwrap(), s("/wAQ"));
        assert_eq!(in_dir(d, "filebase64", vec![s("hello.txt")]).unwrap(), s("SGVsbG8gV29ybGQ="));
        assert_eq!(
            in_dir(d, "filesha256", vec![s("hello.txt")]).unwrap(),
            s("a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e")
        );
        assert_eq!(in_dir(d, "filemd5", vec![s("hello.txt")]).unwrap(), s("b10a8db164e0754105b7a99be72e3fe5"));
        assert_eq!(in_dir(d, "fileexists", vec![s("hello.txt")]).unwrap(), b(true));
        assert_eq!(in_dir(d, "fileexists", vec![s("nope.txt")]).unwrap(), b(false));
        let e = in_dir(d, "fileexists", vec![s("sub")]).unwrap_err();
        assert!(e.message.ends_with("sub\" exists but is not a regular file"), "{}", e.message);
    }

    #[test]
    fn missing_and_bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("bin.dat"), [0xff, 0xfe]).unwrap();
        let e = in_dir(d, "file", vec![s("missing.txt")]).unwrap_err();
        let resolved = d.join("missing.txt").to_string_lossy().into_owned();
        assert!(e.message.starts_with(&format!("file: no file exists at {resolved:?};")), "{}", e.message);
        assert_eq!(e.arg, Some(0));
        let e = in_dir(d, "file", vec![s("bin.dat")]).unwrap_err();
        assert!(e.message.contains("are not valid UTF-8; use filebase64"), "{}", e.message);
        let e = in_dir(d, "file", vec![s(".")]).unwrap_err();
        assert!(e.message.ends_with("is a directory, not a file"), "{}", e.message);
        let e = in_dir(d, "file", vec![s("secret-name.txt").mark_sensitive()]).unwrap_err();
        assert!(!e.message.contains("secret-name"), "{}", e.message);
    }

    #[test]
    fn unknown_path_is_unknown() {
        assert_eq!(ok("file", vec![Value::Unknown]), Value::Unknown);
    }

    #[test]
    fn lexical_path_functions() {
        assert_eq!(ok("basename", vec![s("foo/bar/baz.txt")]), s("baz.txt"));
        assert_eq!(ok("basename", vec![s("foo/bar/")]), s("bar"));
        assert_eq!(ok("basename", vec![s("/")]), s("/"));
        assert_eq!(ok("basename", vec![s("")]), s("."));
        assert_eq!(ok("dirname", vec![s("foo/bar/baz.txt")]), s("foo/bar"));
        assert_eq!(ok("dirname", vec![s("foo/bar/")]), s("foo/bar"));
        assert_eq!(ok("dirname", vec![s("baz.txt")]), s("."));
        assert_eq!(ok("dirname", vec![s("/baz.txt")]), s("/"));
        assert_eq!(ok("dirname", vec![s("")]), s("."));
        assert_eq!(ok("abspath", vec![s("/a/./b/../c")]), s("/a/c"));
        let ctx_dir = Path::new("/work/stack");
        assert_eq!(in_dir(ctx_dir, "abspath", vec![s("modules/x")]).unwrap(), s("/work/stack/modules/x"));
        assert_eq!(in_dir(ctx_dir, "abspath", vec![s("../y")]).unwrap(), s("/work/y"));
        assert_eq!(clean("a//b/./../c/"), "a/c");
        assert_eq!(clean("../../x"), "../../x");
        assert_eq!(clean("/../x"), "/x");
        assert_eq!(clean(""), ".");
    }

    #[test]
    fn pathexpand_uses_home() {
        let home = std::env::var("HOME").unwrap_or_default();
        if home.is_empty() {
            return;
        }
        let home = home.trim_end_matches('/').to_string();
        assert_eq!(ok("pathexpand", vec![s("~/.ssh/id_rsa")]), s(&format!("{home}/.ssh/id_rsa")));
        assert_eq!(ok("pathexpand", vec![s("~")]), s(&home));
        assert_eq!(ok("pathexpand", vec![s("/etc/resolv.conf")]), s("/etc/resolv.conf"));
        assert_eq!(ok("pathexpand", vec![s("rel/~/x")]), s("rel/~/x"));
        assert!(err("pathexpand", vec![s("~bob/x")]).contains("cannot expand user-specific home directory"));
    }
}
