//! HTML escaping for server-rendered pages. Reference texts come from relying parties and
//! must never become markup.

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Fills `{{name}}` placeholders; values must already be escaped.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |acc, (k, v)| {
        acc.replace(&format!("{{{{{k}}}}}"), v)
    })
}

/// A page that no cache keeps, under a content security policy (`csp`): the simulator's pages
/// show reference texts and approval buttons, never something to replay from a cache.
pub(crate) fn page_response(
    status: axum::http::StatusCode,
    html: String,
    csp: &'static str,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::{Html, IntoResponse};
    let mut response = (status, Html(html)).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(fill("<p>{{a}}</p>{{a}}", &[("a", "1")]), "<p>1</p>1");
    }
}
