//! Pagination over list endpoints, whatever the API's style: an opaque cursor (Neon's
//! `pagination.next`), page numbers (Cloudflare's `page`/`per_page`) or page tokens (Google's
//! `nextPageToken`). The caller says how to ask for a page and how to read one; the loop,
//! its bound and the retries of each page are shared.

use serde_json::Value as Json;
use tenantform_engine::provider::{OpContext, ProviderError};

use super::client::{ApiClient, ApiError, ApiRequest, ApiResponse};

/// One page as the caller reads it: its items and the token of the next page (`None` on the
/// last page).
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    pub fn last(items: Vec<T>) -> Self {
        Page { items, next: None }
    }
}

impl ApiClient {
    /// Collects every item of a paginated list. `request(None)` asks for the first page,
    /// `request(Some(token))` for a later one; `parse` reads a page. Stops on the last page
    /// or after `max_pages` (an error: the listing would be incomplete).
    pub async fn paginate<T>(
        &self,
        ctx: &OpContext,
        max_pages: usize,
        mut request: impl FnMut(Option<&str>) -> ApiRequest,
        mut parse: impl FnMut(&ApiResponse) -> Result<Page<T>, ProviderError>,
    ) -> Result<Vec<T>, ApiError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..max_pages.max(1) {
            let resp = self.send(ctx, request(token.as_deref())).await?;
            let page = parse(&resp)?;
            out.extend(page.items);
            match page.next {
                Some(n) if !n.is_empty() && token.as_deref() != Some(n.as_str()) => token = Some(n),
                _ => return Ok(out),
            }
        }
        Err(ProviderError::permanent(format!(
            "{}: listing did not end after {max_pages} pages; refusing to guess from a partial list",
            self.api()
        ))
        .into())
    }
}

/// A [`Page`] from a JSON body: the array at `items_key` decoded as `T`, and the next token
/// from `next_path` (a `/`-separated JSON pointer, e.g. `/pagination/next`), if any.
pub fn json_page<T: serde::de::DeserializeOwned>(
    resp: &ApiResponse,
    items_key: &str,
    next_path: Option<&str>,
) -> Result<Page<T>, ProviderError> {
    let body: Json = resp.json()?;
    let items = match body.get(items_key) {
        Some(Json::Array(a)) => a.clone(),
        Some(Json::Null) | None => Vec::new(),
        Some(_) => return Err(ProviderError::permanent(format!("list response: `{items_key}` is not an array"))),
    };
    let items =
        items.into_iter().map(serde_json::from_value).collect::<Result<Vec<T>, _>>().map_err(|e| {
            ProviderError::permanent(format!("list response: cannot decode an item of `{items_key}`: {e}"))
        })?;
    let next = next_path.and_then(|p| body.pointer(p)).and_then(Json::as_str).map(str::to_string);
    Ok(Page { items, next })
}
