//! Tenant slug rules: a slug becomes a DNS label (`acme.my.example.com`), a database name and a
//! path segment, so it must be a valid DNS label and must not shadow a name the platform uses
//! itself (`www`, `api`, `admin`, …).

/// Names reserved by default; `tenant_stack { reserved_slugs = [...] }` replaces the list.
pub const DEFAULT_RESERVED_SLUGS: &[&str] = &[
    "www",
    "api",
    "admin",
    "auth",
    "app",
    "mail",
    "smtp",
    "imap",
    "pop",
    "ftp",
    "ns1",
    "ns2",
    "dns",
    "mx",
    "static",
    "assets",
    "cdn",
    "status",
    "docs",
    "help",
    "support",
    "billing",
    "dashboard",
    "console",
    "login",
    "logout",
    "signup",
    "register",
    "account",
    "accounts",
    "root",
    "system",
    "internal",
    "localhost",
    "staging",
    "dev",
    "test",
    "prod",
    "production",
    "default",
    "public",
    "tenant",
    "tenants",
    "blog",
    "webmail",
    "autodiscover",
];

/// Why a slug is invalid, with the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlugError {
    pub message: String,
    pub help: String,
}

/// Checks a tenant slug: 3–63 characters of `[a-z0-9-]`, no leading or trailing hyphen, not
/// reserved.
pub fn validate_slug(slug: &str, reserved: &[String]) -> Result<(), SlugError> {
    let suggestion = suggest(slug);
    let help_with = |base: &str| -> String {
        match &suggestion {
            Some(s) if s != slug => format!("{base}; for example \"{s}\""),
            _ => base.to_string(),
        }
    };
    let len = slug.chars().count();
    if len < 3 || len > 63 {
        return Err(SlugError {
            message: format!("tenant slug \"{slug}\" is {len} characters long; slugs have 3 to 63 characters"),
            help: help_with("choose a slug of 3 to 63 characters"),
        });
    }
    if let Some(bad) = slug.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(SlugError {
            message: format!("tenant slug \"{slug}\" contains {bad:?}; slugs are DNS labels of a-z, 0-9 and \"-\""),
            help: help_with("use lowercase letters, digits and hyphens (slugify() makes one from a name)"),
        });
    }
    if slug.starts_with('-') || slug.ends_with('-') {
        return Err(SlugError {
            message: format!("tenant slug \"{slug}\" starts or ends with a hyphen"),
            help: help_with("remove the leading/trailing hyphen"),
        });
    }
    if reserved.iter().any(|r| r == slug) {
        return Err(SlugError {
            message: format!("tenant slug \"{slug}\" is reserved"),
            help: "reserved slugs would collide with platform hostnames; choose another slug, or change the \
                   list with `reserved_slugs` in the tenant_stack block"
                .to_string(),
        });
    }
    Ok(())
}

fn suggest(slug: &str) -> Option<String> {
    let mut out = String::new();
    for c in slug.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let s: String = out.trim_matches('-').chars().take(63).collect();
    let s = s.trim_end_matches('-').to_string();
    (s.len() >= 3).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reserved() -> Vec<String> {
        DEFAULT_RESERVED_SLUGS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn valid_slugs() {
        for s in ["acme", "acme-co", "a1b", "x".repeat(63).as_str()] {
            assert!(validate_slug(s, &reserved()).is_ok(), "{s}");
        }
    }

    #[test]
    fn invalid_slugs_say_why_and_suggest() {
        let e = validate_slug("Acme_Co", &reserved()).unwrap_err();
        assert!(e.message.contains("contains 'A'"), "{}", e.message);
        assert!(e.help.contains("\"acme-co\""), "{}", e.help);
        assert!(validate_slug("ab", &reserved()).unwrap_err().message.contains("2 characters"));
        assert!(validate_slug("-abc", &reserved()).is_err());
        assert!(validate_slug(&"x".repeat(64), &reserved()).is_err());
        assert!(validate_slug("admin", &reserved()).unwrap_err().message.contains("reserved"));
        assert!(validate_slug("admin", &[]).is_ok());
    }
}
