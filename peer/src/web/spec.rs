//! # SPEC.md as a page, each section with an anchor
//!
//! Every part and field the web view shows links to the section of the protocol digest
//! that defines it (`/spec#s2.3`). The digest is `docs/SPEC.md`, embedded in the binary so
//! the page works offline; this turns its headings into anchored headings and keeps the
//! rest as preformatted text (it is written to be read as plain text).

/// The digest, as committed.
const SPEC: &str = include_str!("../../../docs/SPEC.md");

/// The anchor of a heading: `## 2. (b) …` → `s2`, `### 2.3 MTProto …` → `s2.3`.
fn anchor(heading: &str) -> Option<String> {
    let number = heading.split_whitespace().next()?.trim_end_matches('.');
    (number.chars().next()?.is_ascii_digit()).then(|| format!("s{number}"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole page.
pub fn page() -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <link rel=\"icon\" href=\"data:,\"><title>SPEC — secret chats, the protocol digest</title>\
         <link rel=\"stylesheet\" href=\"/web.css\"></head><body class=\"spec\">\
         <p class=\"hint\">The protocol digest this project follows (docs/SPEC.md). \
         Back to <a href=\"/\">the run</a>.</p>\n<pre>",
    );
    // The first line is the note saying where the copy came from (an HTML comment).
    for line in SPEC.lines().skip_while(|line| line.starts_with("<!--")) {
        let level = line.chars().take_while(|c| *c == '#').count();
        let heading = line[level..].trim();
        if (1..=4).contains(&level) && !heading.is_empty() {
            let id = anchor(heading).map_or(String::new(), |id| format!(" id=\"{id}\""));
            html.push_str(&format!(
                "</pre>\n<h{level}{id}>{}</h{level}>\n<pre>",
                escape(heading)
            ));
        } else {
            html.push_str(&escape(line));
            html.push('\n');
        }
    }
    html.push_str("</pre></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_the_web_view_links_to_has_an_anchor() {
        let page = page();
        for section in [
            "1.6", "2.1", "2.2", "2.3", "2.4", "3.1", "3.3", "4", "5", "6", "8.1", "8.2", "8.3",
            "8.4",
        ] {
            assert!(
                page.contains(&format!("id=\"s{section}\"")),
                "no anchor for §{section}"
            );
        }
    }

    #[test]
    fn the_digest_is_escaped_not_interpreted() {
        assert!(!page().contains("<S1>"));
        assert_eq!(escape("a < b & c"), "a &lt; b &amp; c");
    }
}
