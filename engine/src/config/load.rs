//! Reading and decoding: files → hcl-edit syntax → [`Module`]s, with every structural error
//! collected as a diagnostic.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block, BlockLabel, Structure};
use hcl_edit::Span as _;

use super::*;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, FileId, Sources, Span};
use crate::value::Value;

/// Where the loader reads files from.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read from these files instead of the disk (a saved plan embeds its configuration).
    /// Keys are paths as they were on disk.
    pub files: Option<BTreeMap<PathBuf, String>>,
}

/// What loading produced: the sources read (always, so diagnostics can be rendered), the
/// configuration when there were no errors, and every diagnostic.
pub struct Loaded {
    pub sources: Sources,
    pub config: Option<Config>,
    pub diags: Diagnostics,
}

/// Loads the stack in `dir`.
pub fn load(dir: &Path) -> Loaded {
    load_with_sources(dir, &LoadOptions::default())
}

/// Like [`load`], with options.
pub fn load_with_sources(dir: &Path, opts: &LoadOptions) -> Loaded {
    let mut loader = Loader {
        sources: Sources::default(),
        diags: Diagnostics::new(),
        cache: HashMap::new(),
        stack: Vec::new(),
        opts,
        cwd: std::env::current_dir().unwrap_or_default(),
    };
    let root = loader.load_module(dir, true, None);
    let Loader { sources, diags, .. } = loader;
    let config = match root {
        Some(root) if !diags.has_errors() => Some(Config { root, dir: dir.to_path_buf() }),
        _ => None,
    };
    Loaded { sources, config, diags }
}

struct Loader<'a> {
    sources: Sources,
    diags: Diagnostics,
    /// Modules already loaded, by canonical directory: a module used by 10,000 tenants is
    /// parsed once.
    cache: HashMap<PathBuf, Arc<Module>>,
    /// Directories being loaded (to report a module that includes itself).
    stack: Vec<PathBuf>,
    opts: &'a LoadOptions,
    cwd: PathBuf,
}

/// The names every block kind accepts, for "did you mean".
const TOP_LEVEL_BLOCKS: &[&str] = &[
    "variable",
    "locals",
    "output",
    "resource",
    "data",
    "provider",
    "module",
    "tenant_stack",
    "tenant",
    "import",
    "moved",
    "state",
];

impl Loader<'_> {
    fn display_name(&self, path: &Path) -> String {
        let shown = path.strip_prefix(&self.cwd).unwrap_or(path).display().to_string();
        if shown.is_empty() {
            ".".to_string()
        } else {
            shown
        }
    }

    /// Lists the configuration files of a directory: `*.hcl` and `*.tf`, sorted, hidden files
    /// skipped.
    fn list_files(&mut self, dir: &Path, recursive: bool) -> Vec<PathBuf> {
        let is_config = |p: &Path| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.') && (name.ends_with(".hcl") || name.ends_with(".tf"))
        };
        if let Some(files) = &self.opts.files {
            return files
                .keys()
                .filter(|p| p.parent() == Some(dir) || (recursive && p.starts_with(dir)))
                .filter(|p| is_config(p))
                .cloned()
                .collect();
        }
        let mut out = Vec::new();
        let mut dirs = vec![dir.to_path_buf()];
        while let Some(d) = dirs.pop() {
            let entries = match std::fs::read_dir(&d) {
                Ok(e) => e,
                Err(e) => {
                    if d == dir {
                        self.diags.push(
                            Diagnostic::error("io", format!("cannot read directory {}", self.display_name(&d)))
                                .with_detail(e.to_string()),
                        );
                    }
                    continue;
                }
            };
            for entry in entries.flatten() {
                let p = entry.path();
                let ft = entry.file_type().ok();
                if ft.is_some_and(|t| t.is_dir()) {
                    if recursive && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                        dirs.push(p);
                    }
                } else if is_config(&p) {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    fn read_file(&mut self, path: &Path) -> Option<String> {
        if let Some(files) = &self.opts.files {
            return files.get(path).cloned();
        }
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Some(s),
                Err(_) => {
                    self.diags
                        .push(Diagnostic::error("io", format!("{} is not valid UTF-8 text", self.display_name(path))));
                    None
                }
            },
            Err(e) => {
                self.diags.push(
                    Diagnostic::error("io", format!("cannot read {}", self.display_name(path)))
                        .with_detail(e.to_string()),
                );
                None
            }
        }
    }

    fn load_module(&mut self, dir: &Path, is_root: bool, call_span: Option<Span>) -> Option<Arc<Module>> {
        let key = if self.opts.files.is_some() {
            dir.to_path_buf()
        } else {
            dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
        };
        if let Some(m) = self.cache.get(&key) {
            return Some(m.clone());
        }
        if self.stack.contains(&key) {
            self.diags.push(
                Diagnostic::error("module-recursion", "Module calls itself")
                    .with_span(call_span)
                    .with_label("this module source leads back to a module being loaded")
                    .with_help("a module cannot include itself, directly or through other modules"),
            );
            return None;
        }
        let exists = match &self.opts.files {
            Some(files) => files.keys().any(|p| p.starts_with(dir)),
            None => dir.is_dir(),
        };
        if !exists {
            self.diags.push(
                Diagnostic::error(
                    "module-not-found",
                    format!("Module directory {} does not exist", self.display_name(dir)),
                )
                .with_span(call_span)
                .with_label("this source"),
            );
            return None;
        }
        self.stack.push(key.clone());
        let mut module = Module { dir: dir.to_path_buf(), ..Module::default() };
        let mut files = self.list_files(dir, false);
        if is_root {
            // Tenant declarations may be dropped into tenants/ by a signup flow.
            let tdir = dir.join("tenants");
            let present = match &self.opts.files {
                Some(files) => files.keys().any(|p| p.starts_with(&tdir)),
                None => tdir.is_dir(),
            };
            if present {
                files.extend(self.list_files(&tdir, true));
            }
        }
        if files.is_empty() && self.opts.files.is_none() {
            self.diags.push(
                Diagnostic::error("no-config", format!("No configuration files in {}", self.display_name(dir)))
                    .with_span(call_span)
                    .with_help("configuration files end in .hcl or .tf"),
            );
        }
        for path in files {
            let Some(text) = self.read_file(&path) else {
                continue;
            };
            let name = self.display_name(&path);
            let in_tenants_dir = is_root && path.starts_with(dir.join("tenants"));
            let file = self.sources.add(name, &path, text.as_str());
            let body = match hcl_edit::parser::parse_body(&text) {
                Ok(b) => b,
                Err(e) => {
                    self.diags.push(syntax_error(file, &text, &e));
                    continue;
                }
            };
            for structure in body.into_iter() {
                match structure {
                    Structure::Attribute(a) => {
                        let span = sp(file, a.span());
                        self.diags.push(
                            Diagnostic::error("unexpected-argument", format!("Unexpected argument \"{}\" at the top level", a.key.value()))
                                .with_span(span)
                                .with_label("arguments belong inside a block")
                                .with_help("the top level holds blocks: variable, locals, output, resource, data, provider, module, tenant_stack, tenant, import, moved, state"),
                        );
                    }
                    Structure::Block(b) => {
                        if in_tenants_dir && !matches!(b.ident.value().as_str(), "tenant" | "import") {
                            self.diags.push(
                                Diagnostic::error(
                                    "misplaced-block",
                                    format!("\"{}\" block in the tenants/ directory", b.ident.value()),
                                )
                                .with_span(sp(file, b.ident.span()))
                                .with_label("only tenant (and import) blocks belong here")
                                .with_help("move it to a .hcl file in the stack directory"),
                            );
                            continue;
                        }
                        self.decode_block(&mut module, file, b, is_root);
                    }
                }
            }
        }
        self.check_module(&module, is_root);
        self.stack.pop();
        let module = Arc::new(module);
        self.cache.insert(key, module.clone());
        Some(module)
    }

    fn check_module(&mut self, module: &Module, is_root: bool) {
        if !is_root {
            return;
        }
        if module.tenant_stack.is_none() {
            if let Some(t) = module.tenants.values().next() {
                self.diags.push(
                    Diagnostic::error("no-tenant-stack", "Tenants are declared but there is no tenant_stack block")
                        .with_span(Some(t.span))
                        .with_label("this tenant has no stack to instantiate")
                        .with_help("add `tenant_stack { source = \"./tenant\" }` naming the module every tenant gets"),
                );
            }
        }
        if let Some(stack) = &module.tenant_stack {
            if let Some(inputs) = &stack.inputs {
                if let hcl_edit::expr::Expression::Object(o) = &inputs.expr {
                    for (k, _) in o.iter() {
                        let Some(name) = k.as_ident().map(|i| i.to_string()) else { continue };
                        if !stack.module.variables.contains_key(&name) {
                            let span = hcl_edit::Span::span(k).map(|r| Span::new(inputs.file, r));
                            let mut d = Diagnostic::error(
                                "unknown-argument",
                                format!("Shared input \"{name}\" is not a variable of the tenant stack"),
                            )
                            .with_span(span)
                            .with_label(format!(
                                "{} declares no variable \"{name}\"",
                                self.display_name(&stack.module.dir)
                            ));
                            if let Some(s) = did_you_mean(&name, stack.module.variables.keys().map(String::as_str)) {
                                d = d.with_help(format!("did you mean \"{s}\"?"));
                            }
                            self.diags.push(d);
                        }
                    }
                }
            }
            for t in module.tenants.values() {
                if let Err(e) = validate_slug(&t.slug, &stack.reserved_slugs) {
                    let code = if e.message.contains("reserved") { "reserved-slug" } else { "invalid-slug" };
                    self.diags.push(
                        Diagnostic::error(code, "Invalid tenant slug")
                            .with_span(Some(t.slug_span))
                            .with_label(e.message)
                            .with_help(e.help),
                    );
                }
                for (name, attr) in &t.inputs {
                    if !stack.module.variables.contains_key(name) {
                        let mut d = Diagnostic::error(
                            "unknown-argument",
                            format!("Tenant input \"{name}\" is not a variable of the tenant stack"),
                        )
                        .with_span(Some(attr.name_span))
                        .with_label(format!(
                            "{} declares no variable \"{name}\"",
                            self.display_name(&stack.module.dir)
                        ));
                        if let Some(s) = did_you_mean(name, stack.module.variables.keys().map(String::as_str)) {
                            d = d.with_help(format!("did you mean \"{s}\"?"));
                        } else {
                            d = d.with_help(format!("declare `variable \"{name}\" {{}}` in the tenant stack module"));
                        }
                        self.diags.push(d);
                    }
                }
            }
        }
    }

    fn decode_block(&mut self, module: &mut Module, file: FileId, b: Block, is_root: bool) {
        let kind = b.ident.value().to_string();
        let ident_span = sp(file, b.ident.span());
        let span = header_span(file, &b);
        match kind.as_str() {
            "variable" => {
                let Some([name]) = self.labels::<1>(file, &b, "variable", &["name"]) else {
                    return;
                };
                let body = self.body(
                    file,
                    b.body,
                    &["type", "default", "description", "sensitive", "nullable"],
                    &["validation"],
                );
                let mut validations = Vec::new();
                for nb in &body.blocks {
                    let vb = &nb.body;
                    match (vb.attrs.get("condition"), vb.attrs.get("error_message")) {
                        (Some(c), Some(m)) => validations.push(Validation {
                            condition: c.expr.clone(),
                            error_message: m.expr.clone(),
                            span: nb.span,
                        }),
                        _ => self.diags.push(
                            Diagnostic::error(
                                "missing-argument",
                                "A validation block needs condition and error_message",
                            )
                            .with_span(Some(nb.type_span))
                            .with_label("incomplete validation"),
                        ),
                    }
                    self.only_attrs(vb, &["condition", "error_message"], "validation");
                }
                let (ty, type_span) = match body.attrs.get("type") {
                    Some(a) => match parse_type(&a.expr.expr, file) {
                        Ok(t) => (t, a.expr.span()),
                        Err(d) => {
                            self.diags.push(d);
                            (Type::Any, a.expr.span())
                        }
                    },
                    None => (Type::Any, None),
                };
                if let Some(d) = body.attrs.get("default") {
                    if let Some(r) = crate::eval::references(&d.expr).first() {
                        self.diags.push(
                            Diagnostic::error("invalid-default", "Variables not allowed in a default")
                                .with_span(Some(r.span))
                                .with_label("a variable's default must be a literal value")
                                .with_help("compute derived values in a local: locals { x = coalesce(var.x, …) }"),
                        );
                    }
                }
                let var = Variable {
                    name: name.clone(),
                    span,
                    ty,
                    type_span,
                    default: body.attrs.get("default").map(|a| a.expr.clone()),
                    description: self.const_string(&body, "description"),
                    sensitive: self.const_bool(&body, "sensitive").unwrap_or(false),
                    nullable: self.const_bool(&body, "nullable").unwrap_or(true),
                    validations,
                };
                if let Some(prev) = module.variables.get(&name) {
                    self.duplicate("variable", &name, span, prev.span);
                } else {
                    module.variables.insert(name, var);
                }
            }
            "locals" => {
                self.labels::<0>(file, &b, "locals", &[]);
                let body = self.body(file, b.body, &[], &[]);
                for (name, attr) in body.attrs {
                    if let Some(prev) = module.locals.get(&name) {
                        self.duplicate("local value", &name, attr.name_span, prev.span);
                    } else {
                        module.locals.insert(name.clone(), Local { name, span: attr.name_span, expr: attr.expr });
                    }
                }
            }
            "output" => {
                let Some([name]) = self.labels::<1>(file, &b, "output", &["name"]) else {
                    return;
                };
                let body = self.body(file, b.body, &["value", "description", "sensitive", "depends_on"], &[]);
                let Some(value) = body.attrs.get("value") else {
                    self.missing(span, "output", "value");
                    return;
                };
                let out = Output {
                    name: name.clone(),
                    span,
                    value: value.expr.clone(),
                    description: self.const_string(&body, "description"),
                    sensitive: self.const_bool(&body, "sensitive").unwrap_or(false),
                    depends_on: self.depends_on(&body),
                };
                if let Some(prev) = module.outputs.get(&name) {
                    self.duplicate("output", &name, span, prev.span);
                } else {
                    module.outputs.insert(name, out);
                }
            }
            "resource" | "data" => {
                let mode = if kind == "data" { Mode::Data } else { Mode::Managed };
                let Some([ty, name]) = self.labels::<2>(file, &b, &kind, &["type", "name"]) else {
                    return;
                };
                let type_span = b.labels.first().and_then(|l| label_span(file, l)).unwrap_or(span);
                let mut body = self.body(file, b.body, &[], &[]);
                let count = body.attrs.shift_remove("count").map(|a| a.expr);
                let for_each = body.attrs.shift_remove("for_each").map(|a| a.expr);
                if let (Some(c), Some(_)) = (&count, &for_each) {
                    self.diags.push(
                        Diagnostic::error("conflicting-arguments", "count and for_each cannot both be set")
                            .with_span(c.span())
                            .with_label("remove count or for_each"),
                    );
                }
                let depends_on = self.depends_on(&body);
                body.attrs.shift_remove("depends_on");
                let provider = body.attrs.shift_remove("provider").and_then(|a| self.provider_ref(&a));
                let mut lifecycle = Lifecycle::default();
                let mut rest = Vec::new();
                for nb in std::mem::take(&mut body.blocks) {
                    match nb.ty.as_str() {
                        "lifecycle" => lifecycle = self.lifecycle(&nb),
                        "provisioner" | "connection" => self.diags.push(
                            Diagnostic::error("unsupported-block", format!("{} blocks are not supported", nb.ty))
                                .with_span(Some(nb.type_span))
                                .with_label("not supported by tenantform")
                                .with_help("model the step as a resource of its own, so that it is planned, recorded and retried"),
                        ),
                        _ => rest.push(nb),
                    }
                }
                body.blocks = rest;
                let r = Resource {
                    mode,
                    ty: ty.clone(),
                    name: name.clone(),
                    span,
                    type_span,
                    count,
                    for_each,
                    depends_on,
                    provider,
                    lifecycle,
                    body,
                };
                if !crate::value::is_identifier(&name) {
                    self.diags.push(
                        Diagnostic::error("invalid-name", format!("Invalid resource name \"{name}\""))
                            .with_span(Some(span))
                            .with_label("names start with a letter or underscore and contain letters, digits, _ and -"),
                    );
                }
                let key = r.key();
                if let Some(prev) = module.resources.get(&key) {
                    self.duplicate(if mode == Mode::Data { "data source" } else { "resource" }, &key, span, prev.span);
                } else {
                    module.resources.insert(key, Arc::new(r));
                }
            }
            "provider" => {
                if !is_root {
                    self.diags.push(
                        Diagnostic::error("misplaced-block", "Provider configurations belong in the root module")
                            .with_span(ident_span)
                            .with_label("modules (and every tenant) use the root module's provider configurations")
                            .with_help("move this block to the stack directory; use `provider = NAME.ALIAS` in resources to pick an aliased one"),
                    );
                    return;
                }
                let Some([name]) = self.labels::<1>(file, &b, "provider", &["name"]) else {
                    return;
                };
                let mut body = self.body(file, b.body, &[], &[]);
                let alias = body.attrs.shift_remove("alias").and_then(|a| match literal_value(&a.expr.expr) {
                    Some(Value::String(s)) => Some(s),
                    _ => {
                        self.diags.push(
                            Diagnostic::error("invalid-argument", "alias must be a literal string")
                                .with_span(a.expr.span()),
                        );
                        None
                    }
                });
                let p = ProviderConfig { name, alias, span, body };
                if let Some(prev) = module.providers.iter().find(|q| q.key() == p.key()) {
                    self.duplicate("provider configuration", &p.key(), span, prev.span);
                } else {
                    module.providers.push(p);
                }
            }
            "module" => {
                let Some([name]) = self.labels::<1>(file, &b, "module", &["name"]) else {
                    return;
                };
                let mut body = self.body(file, b.body, &[], &[]);
                for nb in &body.blocks {
                    self.diags.push(
                        Diagnostic::error(
                            "unexpected-block",
                            format!("Unexpected \"{}\" block in a module call", nb.ty),
                        )
                        .with_span(Some(nb.type_span))
                        .with_label("module calls take arguments only"),
                    );
                }
                let Some((source, source_span)) = self.source_arg(&mut body, span, "module") else {
                    return;
                };
                for meta in ["version", "providers"] {
                    if let Some(a) = body.attrs.shift_remove(meta) {
                        self.diags.push(
                            Diagnostic::error(
                                "unsupported-argument",
                                format!("\"{meta}\" is not supported in module calls"),
                            )
                            .with_span(Some(a.name_span))
                            .with_label(if meta == "version" {
                                "only local module directories are supported"
                            } else {
                                "modules inherit the root module's provider configurations"
                            }),
                        );
                    }
                }
                let count = body.attrs.shift_remove("count").map(|a| a.expr);
                let for_each = body.attrs.shift_remove("for_each").map(|a| a.expr);
                let depends_on = self.depends_on(&body);
                body.attrs.shift_remove("depends_on");
                let Some(child) = self.child_module(&module.dir, &source, source_span) else {
                    return;
                };
                for (input, attr) in &body.attrs {
                    if !child.variables.contains_key(input) {
                        let mut d = Diagnostic::error(
                            "unknown-argument",
                            format!("Module \"{name}\" has no variable \"{input}\""),
                        )
                        .with_span(Some(attr.name_span))
                        .with_label("not an input of this module");
                        if let Some(s) = did_you_mean(input, child.variables.keys().map(String::as_str)) {
                            d = d.with_help(format!("did you mean \"{s}\"?"));
                        }
                        self.diags.push(d);
                    }
                }
                let call = ModuleCall {
                    name: name.clone(),
                    span,
                    source,
                    source_span,
                    count,
                    for_each,
                    depends_on,
                    inputs: body.attrs,
                    module: child,
                };
                if let Some(prev) = module.module_calls.get(&name) {
                    self.duplicate("module", &name, span, prev.span);
                } else {
                    module.module_calls.insert(name, call);
                }
            }
            "tenant_stack" => {
                if !is_root {
                    self.root_only(ident_span, "tenant_stack");
                    return;
                }
                self.labels::<0>(file, &b, "tenant_stack", &[]);
                let mut body = self.body(file, b.body, &["source", "inputs", "reserved_slugs"], &[]);
                let Some((source, source_span)) = self.source_arg(&mut body, span, "tenant_stack") else {
                    return;
                };
                let reserved_slugs = match body.attrs.get("reserved_slugs") {
                    Some(a) => match literal_value(&a.expr.expr) {
                        Some(Value::List(items)) if items.iter().all(|i| i.as_str().is_some()) => {
                            items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect()
                        }
                        _ => {
                            self.diags.push(
                                Diagnostic::error(
                                    "invalid-argument",
                                    "reserved_slugs must be a literal list of strings",
                                )
                                .with_span(a.expr.span()),
                            );
                            Vec::new()
                        }
                    },
                    None => DEFAULT_RESERVED_SLUGS.iter().map(|s| s.to_string()).collect(),
                };
                let Some(child) = self.child_module(&module.dir, &source, source_span) else {
                    return;
                };
                let stack = TenantStack {
                    span,
                    source,
                    source_span,
                    inputs: body.attrs.get("inputs").map(|a| a.expr.clone()),
                    reserved_slugs,
                    module: child,
                };
                if let Some(prev) = &module.tenant_stack {
                    self.duplicate("tenant_stack", "tenant_stack", span, prev.span);
                } else {
                    module.tenant_stack = Some(stack);
                }
            }
            "tenant" => {
                if !is_root {
                    self.root_only(ident_span, "tenant");
                    return;
                }
                let Some([slug]) = self.labels::<1>(file, &b, "tenant", &["slug"]) else {
                    return;
                };
                let slug_span = b.labels.first().and_then(|l| label_span(file, l)).unwrap_or(span);
                let body = self.body(file, b.body, &[], &[]);
                for nb in &body.blocks {
                    self.diags.push(
                        Diagnostic::error("unexpected-block", format!("Unexpected \"{}\" block in a tenant", nb.ty))
                            .with_span(Some(nb.type_span))
                            .with_label("tenant blocks take input arguments only"),
                    );
                }
                let t = Tenant { slug: slug.clone(), span, slug_span, inputs: body.attrs };
                if let Some(prev) = module.tenants.get(&slug) {
                    self.diags.push(
                        Diagnostic::error("duplicate-tenant", format!("Tenant \"{slug}\" is declared twice"))
                            .with_span(Some(slug_span))
                            .with_label("second declaration")
                            .with_secondary(prev.slug_span, "first declared here")
                            .with_help("each tenant is declared once; remove or rename one of them"),
                    );
                } else {
                    module.tenants.insert(slug, t);
                }
            }
            "import" => {
                if !is_root {
                    self.diags.push(
                        Diagnostic::error("misplaced-block", "import blocks belong in the root module")
                            .with_span(ident_span)
                            .with_label("not allowed inside a module")
                            .with_help("write it in the root module with the full address, e.g. to = tenant.acme.local_service.web (for_each over tenants works)"),
                    );
                    return;
                }
                self.labels::<0>(file, &b, "import", &[]);
                let body = self.body(file, b.body, &["to", "id", "for_each", "provider"], &[]);
                match (body.attrs.get("to"), body.attrs.get("id")) {
                    (Some(to), Some(id)) => module.imports.push(ImportBlock {
                        span,
                        to: to.expr.clone(),
                        id: id.expr.clone(),
                        for_each: body.attrs.get("for_each").map(|a| a.expr.clone()),
                    }),
                    (None, _) => self.missing(span, "import", "to"),
                    (_, None) => self.missing(span, "import", "id"),
                }
            }
            "moved" => {
                self.labels::<0>(file, &b, "moved", &[]);
                let body = self.body(file, b.body, &["from", "to"], &[]);
                match (body.attrs.get("from"), body.attrs.get("to")) {
                    (Some(from), Some(to)) => {
                        module.moved.push(MovedBlock { span, from: from.expr.clone(), to: to.expr.clone() })
                    }
                    (None, _) => self.missing(span, "moved", "from"),
                    (_, None) => self.missing(span, "moved", "to"),
                }
            }
            "state" => {
                if !is_root {
                    self.root_only(ident_span, "state");
                    return;
                }
                self.labels::<0>(file, &b, "state", &[]);
                let body = self.body(file, b.body, &[], &[]);
                if let Some(prev) = &module.state {
                    self.duplicate("state", "state", span, prev.span);
                } else {
                    module.state = Some(StateConfig { span, body });
                }
            }
            "terraform" => self.diags.push(
                Diagnostic::error("unknown-block", "Unsupported block type \"terraform\"")
                    .with_span(ident_span)
                    .with_label("tenantform has no terraform block")
                    .with_help("configure state with a `state { … }` block; providers are built in"),
            ),
            other => {
                let mut d = Diagnostic::error("unknown-block", format!("Unsupported block type \"{other}\""))
                    .with_span(ident_span)
                    .with_label("not a block tenantform knows");
                d = match did_you_mean(other, TOP_LEVEL_BLOCKS.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                    None => d.with_help(format!("the top level holds: {}", TOP_LEVEL_BLOCKS.join(", "))),
                };
                self.diags.push(d);
            }
        }
    }

    fn child_module(&mut self, parent_dir: &Path, source: &str, source_span: Span) -> Option<Arc<Module>> {
        if !(source.starts_with("./") || source.starts_with("../")) {
            self.diags.push(
                Diagnostic::error("invalid-source", format!("Module source \"{source}\" is not a local path"))
                    .with_span(Some(source_span))
                    .with_label("must start with ./ or ../")
                    .with_help("tenantform loads modules from local directories, e.g. source = \"./tenant\""),
            );
            return None;
        }
        let dir = normalize(&parent_dir.join(source));
        self.load_module(&dir, false, Some(source_span))
    }

    fn source_arg(&mut self, body: &mut Body, span: Span, what: &str) -> Option<(String, Span)> {
        match body.attrs.shift_remove("source") {
            Some(a) => match literal_value(&a.expr.expr) {
                Some(Value::String(s)) => Some((s, a.expr.span().unwrap_or(a.span))),
                _ => {
                    self.diags.push(
                        Diagnostic::error("invalid-source", "source must be a literal string")
                            .with_span(a.expr.span())
                            .with_label("expressions are not allowed here"),
                    );
                    None
                }
            },
            None => {
                self.missing(span, what, "source");
                None
            }
        }
    }

    fn root_only(&mut self, span: Option<Span>, what: &str) {
        self.diags.push(
            Diagnostic::error("misplaced-block", format!("\"{what}\" blocks belong in the root module"))
                .with_span(span)
                .with_label("not allowed inside a module"),
        );
    }

    fn duplicate(&mut self, what: &str, name: &str, span: Span, prev: Span) {
        self.diags.push(
            Diagnostic::error("duplicate", format!("Duplicate {what} \"{name}\""))
                .with_span(Some(span))
                .with_label("declared again here")
                .with_secondary(prev, "first declared here")
                .with_help("names must be unique within a module"),
        );
    }

    fn missing(&mut self, span: Span, block: &str, arg: &str) {
        self.diags.push(
            Diagnostic::error("missing-argument", format!("Missing required argument \"{arg}\""))
                .with_span(Some(span))
                .with_label(format!("this {block} block needs \"{arg}\"")),
        );
    }

    /// Checks the number of labels and returns them.
    fn labels<const N: usize>(&mut self, file: FileId, b: &Block, kind: &str, names: &[&str]) -> Option<[String; N]> {
        let labels: Vec<String> = b.labels.iter().map(|l| l.as_str().to_string()).collect();
        if labels.len() != N {
            let expected = if N == 0 {
                format!("{kind} blocks take no labels")
            } else {
                format!(
                    "{kind} blocks take {N} label{}: {kind} {} {{ … }}",
                    if N == 1 { "" } else { "s" },
                    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" ")
                )
            };
            self.diags.push(
                Diagnostic::error("invalid-labels", format!("Wrong number of labels on a {kind} block"))
                    .with_span(header_span(file, b).into())
                    .with_label(expected),
            );
            return None;
        }
        labels.try_into().ok()
    }

    /// Decodes a body generically. When `allowed_attrs`/`allowed_blocks` are non-empty, other
    /// names are reported ("did you mean").
    fn body(
        &mut self,
        file: FileId,
        body: hcl_edit::structure::Body,
        allowed_attrs: &[&str],
        allowed_blocks: &[&str],
    ) -> Body {
        let strict = !allowed_attrs.is_empty() || !allowed_blocks.is_empty();
        let mut out = Body::default();
        for s in body.into_iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.value().to_string();
                    let name_span = sp(file, a.key.span()).unwrap_or(Span::new(file, 0..0));
                    let span = sp(file, a.span()).unwrap_or(name_span);
                    if strict && !allowed_attrs.contains(&name.as_str()) {
                        self.unknown_name("argument", &name, name_span, allowed_attrs);
                        continue;
                    }
                    if let Some(prev) = out.attrs.get(&name) {
                        self.diags.push(
                            Diagnostic::error("duplicate", format!("Argument \"{name}\" is set twice"))
                                .with_span(Some(name_span))
                                .with_label("set again here")
                                .with_secondary(prev.name_span, "first set here"),
                        );
                        continue;
                    }
                    out.attrs.insert(
                        name.clone(),
                        Attr { name, name_span, expr: Arc::new(Expr { file, expr: a.value }), span },
                    );
                }
                Structure::Block(b) => {
                    let ty = b.ident.value().to_string();
                    let type_span = sp(file, b.ident.span()).unwrap_or(Span::new(file, 0..0));
                    if strict && !allowed_blocks.contains(&ty.as_str()) {
                        self.unknown_name("block", &ty, type_span, allowed_blocks);
                        continue;
                    }
                    let span = sp(file, b.span()).unwrap_or(type_span);
                    let labels = b.labels.iter().map(|l| l.as_str().to_string()).collect();
                    let inner = self.body(file, b.body, &[], &[]);
                    out.blocks.push(NestedBlock { ty, labels, type_span, span, body: inner });
                }
            }
        }
        out
    }

    fn only_attrs(&mut self, body: &Body, allowed: &[&str], _what: &str) {
        for (name, a) in &body.attrs {
            if !allowed.contains(&name.as_str()) {
                self.unknown_name("argument", name, a.name_span, allowed);
            }
        }
        for b in &body.blocks {
            self.unknown_name("block", &b.ty, b.type_span, &[]);
        }
    }

    fn unknown_name(&mut self, what: &str, name: &str, span: Span, allowed: &[&str]) {
        let mut d = Diagnostic::error(
            if what == "block" { "unknown-block" } else { "unknown-argument" },
            format!("Unsupported {what} \"{name}\""),
        )
        .with_span(Some(span))
        .with_label(format!("no {what} named \"{name}\" is expected here"));
        if let Some(s) = did_you_mean(name, allowed.iter().copied()) {
            d = d.with_help(format!("did you mean \"{s}\"?"));
        } else if !allowed.is_empty() {
            d = d.with_help(format!("expected one of: {}", allowed.join(", ")));
        }
        self.diags.push(d);
    }

    fn const_string(&mut self, body: &Body, name: &str) -> Option<String> {
        let a = body.attrs.get(name)?;
        match literal_value(&a.expr.expr) {
            Some(Value::String(s)) => Some(s),
            _ => {
                self.diags.push(
                    Diagnostic::error("invalid-argument", format!("\"{name}\" must be a literal string"))
                        .with_span(a.expr.span()),
                );
                None
            }
        }
    }

    fn const_bool(&mut self, body: &Body, name: &str) -> Option<bool> {
        let a = body.attrs.get(name)?;
        match literal_value(&a.expr.expr) {
            Some(Value::Bool(b)) => Some(b),
            _ => {
                self.diags.push(
                    Diagnostic::error("invalid-argument", format!("\"{name}\" must be true or false"))
                        .with_span(a.expr.span()),
                );
                None
            }
        }
    }

    fn depends_on(&mut self, body: &Body) -> Vec<Reference> {
        let Some(a) = body.attrs.get("depends_on") else {
            return Vec::new();
        };
        let Expression::Array(items) = &a.expr.expr else {
            self.diags.push(
                Diagnostic::error("invalid-argument", "depends_on must be a list of references")
                    .with_span(a.expr.span())
                    .with_help("e.g. depends_on = [random_password.admin, module.db]"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match static_reference(item) {
                Some(target @ (RefTarget::Resource(..) | RefTarget::Module(..))) => {
                    out.push(Reference { target, span: a.expr.span_of(item).unwrap_or(a.span) })
                }
                _ => self.diags.push(
                    Diagnostic::error("invalid-reference", "depends_on entries must name a resource or module")
                        .with_span(a.expr.span_of(item))
                        .with_label("not a resource or module reference"),
                ),
            }
        }
        out
    }

    fn provider_ref(&mut self, a: &Attr) -> Option<(String, String)> {
        if let Expression::Traversal(t) = &a.expr.expr {
            if let (Expression::Variable(v), [op]) = (&t.expr, t.operators.as_slice()) {
                if let TraversalOperator::GetAttr(alias) = op.value() {
                    return Some((v.value().to_string(), alias.value().to_string()));
                }
            }
        }
        if let Expression::Variable(v) = &a.expr.expr {
            return Some((v.value().to_string(), String::new()));
        }
        self.diags.push(
            Diagnostic::error("invalid-argument", "provider must be a provider reference")
                .with_span(a.expr.span())
                .with_help("e.g. provider = google.europe"),
        );
        None
    }

    fn lifecycle(&mut self, nb: &NestedBlock) -> Lifecycle {
        let allowed = ["prevent_destroy", "create_before_destroy", "ignore_changes", "replace_triggered_by"];
        self.only_attrs(&nb.body, &allowed, "lifecycle");
        let mut l = Lifecycle { span: Some(nb.span), ..Lifecycle::default() };
        l.prevent_destroy = self.const_bool(&nb.body, "prevent_destroy").unwrap_or(false);
        l.create_before_destroy = self.const_bool(&nb.body, "create_before_destroy").unwrap_or(false);
        if let Some(a) = nb.body.attrs.get("ignore_changes") {
            match &a.expr.expr {
                Expression::Variable(v) if v.value().as_str() == "all" => l.ignore_all_changes = true,
                Expression::Array(items) => {
                    for item in items.iter() {
                        match item {
                            Expression::Variable(v) => l.ignore_changes.push(v.value().to_string()),
                            Expression::Traversal(t) => {
                                if let Expression::Variable(v) = &t.expr {
                                    l.ignore_changes.push(v.value().to_string());
                                }
                            }
                            _ => self.diags.push(
                                Diagnostic::error("invalid-argument", "ignore_changes entries are attribute names")
                                    .with_span(a.expr.span_of(item)),
                            ),
                        }
                    }
                }
                _ => self.diags.push(
                    Diagnostic::error("invalid-argument", "ignore_changes must be a list of attribute names or `all`")
                        .with_span(a.expr.span()),
                ),
            }
        }
        if let Some(a) = nb.body.attrs.get("replace_triggered_by") {
            if let Expression::Array(items) = &a.expr.expr {
                for item in items.iter() {
                    if let Some(target @ RefTarget::Resource(..)) = static_reference(item) {
                        l.replace_triggered_by.push(Reference { target, span: a.expr.span_of(item).unwrap_or(a.span) });
                    }
                }
            }
        }
        l
    }
}

/// The object a plain traversal names, for `depends_on` and similar static contexts.
pub(crate) fn static_reference(e: &Expression) -> Option<RefTarget> {
    let (root, ops): (&str, &[hcl_edit::Decorated<TraversalOperator>]) = match e {
        Expression::Variable(v) => (v.value().as_str(), &[]),
        Expression::Traversal(t) => match &t.expr {
            Expression::Variable(v) => (v.value().as_str(), t.operators.as_slice()),
            _ => return None,
        },
        _ => return None,
    };
    let attr = |i: usize| -> Option<String> {
        match ops.get(i).map(|o| o.value()) {
            Some(TraversalOperator::GetAttr(a)) => Some(a.value().to_string()),
            _ => None,
        }
    };
    match root {
        "module" => Some(RefTarget::Module(attr(0)?, None)),
        "data" => Some(RefTarget::Resource(Mode::Data, attr(0)?, attr(1)?)),
        "var" => Some(RefTarget::Var(attr(0)?)),
        "local" => Some(RefTarget::Local(attr(0)?)),
        ty => Some(RefTarget::Resource(Mode::Managed, ty.to_string(), attr(0)?)),
    }
}

/// Evaluates constant expressions (literals, objects, negation) without any scope.
pub(crate) fn const_value(e: &Expression) -> Option<Value> {
    match e {
        Expression::Object(o) => {
            let mut m = std::collections::BTreeMap::new();
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(i) => i.value().to_string(),
                    ObjectKey::Expression(ke) => const_value(ke)?.as_str()?.to_string(),
                };
                m.insert(key, const_value(v.expr())?);
            }
            Some(Value::Map(m))
        }
        Expression::Array(a) => Some(Value::List(a.iter().map(const_value).collect::<Option<Vec<_>>>()?)),
        Expression::UnaryOp(u) if matches!(u.operator.value(), hcl_edit::expr::UnaryOperator::Neg) => {
            Some(Value::Number(-const_value(&u.expr)?.as_f64()?))
        }
        Expression::Parenthesis(p) => const_value(p.inner()),
        other => literal_value(other),
    }
}

fn sp(file: FileId, r: Option<std::ops::Range<usize>>) -> Option<Span> {
    r.map(|r| Span::new(file, r))
}

fn label_span(file: FileId, l: &BlockLabel) -> Option<Span> {
    match l {
        BlockLabel::Ident(i) => sp(file, i.span()),
        BlockLabel::String(s) => sp(file, s.span()),
    }
}

/// The span of a block's header (identifier and labels), which is what users recognise.
fn header_span(file: FileId, b: &Block) -> Span {
    let start = b.ident.span().map(|r| r.start).or_else(|| b.span().map(|r| r.start)).unwrap_or(0);
    let end = b
        .labels
        .last()
        .and_then(|l| label_span(file, l))
        .map(|s| s.end as usize)
        .or_else(|| b.ident.span().map(|r| r.end))
        .unwrap_or(start);
    Span::new(file, start..end)
}

fn syntax_error(file: FileId, text: &str, e: &hcl_edit::parser::Error) -> Diagnostic {
    let loc = e.location();
    let offset = loc.offset().min(text.len());
    // Underline the offending character (or the end of the file).
    let end = text[offset..].chars().next().map(|c| offset + c.len_utf8()).unwrap_or(offset);
    let message = e.message().to_string();
    let help = if message.contains("expected `}`") {
        Some("a block opened above may be missing its closing `}`")
    } else if message.contains("expected `\"`") {
        Some("a string above may be missing its closing quote")
    } else {
        None
    };
    let d = Diagnostic::error("syntax", "Syntax error")
        .with_span(Some(Span::new(file, offset..end)))
        .with_label(if message.is_empty() { "unexpected input".to_string() } else { message });
    match help {
        Some(h) => d.with_help(h),
        None => d,
    }
}

/// Resolves `.` and `..` without touching the disk.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
