//! HTML to plain text for embedding: Odoo stores lead descriptions and chatter bodies as HTML.
//!
//! This is not a full HTML parser. It drops tags, turns block elements and `<br>` into line
//! breaks, skips the contents of `<script>`, `<style>` and `<head>`, decodes entities and
//! collapses white space. Malformed markup (an unclosed `<`, stray `>`) degrades to text, and
//! nothing in it can make the function fail.

/// Elements whose start or end begins a new line.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "hr",
    "td",
    "th",
    "dd",
    "dt",
];

/// Elements whose contents are never text a reader sees.
const SKIPPED_TAGS: &[&str] = &["script", "style", "head", "title", "template"];

/// Converts HTML to plain text, one paragraph a line. Returns an empty string for markup that
/// shows nothing, such as the `<p><br></p>` Odoo's editor leaves behind.
pub fn html_to_text(html: &str) -> String {
    let mut raw = String::with_capacity(html.len());
    let mut rest = html;
    let mut skipping: Option<String> = None;

    while let Some(lt) = rest.find('<') {
        if skipping.is_none() {
            raw.push_str(&rest[..lt]);
        }
        let after = &rest[lt + 1..];
        let starts_tag = matches!(after.chars().next(), Some(c) if c.is_ascii_alphabetic() || c == '/' || c == '!');
        if !starts_tag {
            // `<` followed by a space or a digit is text, as browsers show it.
            if skipping.is_none() {
                raw.push('<');
            }
            rest = after;
            continue;
        }
        if let Some(comment) = after.strip_prefix("!--") {
            rest = match comment.find("-->") {
                Some(end) => &comment[end + 3..],
                None => "",
            };
            continue;
        }
        let Some(gt) = after.find('>') else {
            // An unclosed `<` is text, as browsers show it.
            if skipping.is_none() {
                raw.push_str(&rest[lt..]);
            }
            rest = "";
            break;
        };
        let tag = &after[..gt];
        rest = &after[gt + 1..];

        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();

        if let Some(skipped) = &skipping {
            if closing && &name == skipped {
                skipping = None;
            }
            continue;
        }
        if !closing && SKIPPED_TAGS.contains(&name.as_str()) && !tag.ends_with('/') {
            skipping = Some(name);
            continue;
        }
        // Inline elements such as <span> or <b> add nothing: "a<b>c</b>" reads "ac".
        if BLOCK_TAGS.contains(&name.as_str()) {
            raw.push('\n');
        }
    }
    if skipping.is_none() {
        raw.push_str(rest);
    }

    let decoded = html_escape::decode_html_entities(&raw);
    normalize_whitespace(&decoded)
}

/// Collapses runs of spaces within lines, trims each line and drops empty lines.
pub fn normalize_whitespace(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '\u{a0}' || c.is_control())
            .filter(|word| !word.is_empty())
            .collect();
        if !words.is_empty() {
            lines.push(words.join(" "));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_become_lines() {
        assert_eq!(
            html_to_text("<p>Needs 20 desks</p><p>Delivery in <b>March</b></p>"),
            "Needs 20 desks\nDelivery in March"
        );
    }

    #[test]
    fn br_breaks_lines() {
        assert_eq!(
            html_to_text("<p>Hello,<br />\n   I am Jacques.<br>Thanks</p>"),
            "Hello,\nI am Jacques.\nThanks"
        );
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            html_to_text("<p>R&amp;D &lt;team&gt; &eacute;t&#233; &#x20AC;5&nbsp;000</p>"),
            "R&D <team> été €5 000"
        );
    }

    #[test]
    fn visually_empty_html_is_empty() {
        for html in [
            "<p><br></p>",
            "<p></p>",
            "<div><p>&nbsp;</p></div>",
            "",
            "   ",
            "<br/>",
        ] {
            assert_eq!(html_to_text(html), "", "for {html:?}");
        }
    }

    #[test]
    fn script_and_style_are_skipped() {
        assert_eq!(
            html_to_text("<style>p{color:red}</style><p>Visible</p><script>alert(1)</script>"),
            "Visible"
        );
    }

    #[test]
    fn comments_are_skipped() {
        assert_eq!(html_to_text("a<!-- hidden -->b"), "ab");
        assert_eq!(html_to_text("a<!-- never closed"), "a");
    }

    #[test]
    fn malformed_markup_degrades_to_text() {
        assert_eq!(html_to_text("3 < 5 and 6 > 4"), "3 < 5 and 6 > 4");
        assert_eq!(html_to_text("<p>unclosed <b"), "unclosed <b");
    }

    #[test]
    fn plain_text_passes_through() {
        assert_eq!(
            html_to_text("Want to know features and benefits of using the new software."),
            "Want to know features and benefits of using the new software."
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = format!(
            "{}deep{}",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        );
        assert_eq!(html_to_text(&html), "deep");
    }
}
