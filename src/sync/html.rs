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
    normalize_whitespace(&html_escape::decode_html_entities(&strip_tags(html, false)))
}

/// Converts the HTML body of an email or note to the text its author wrote: quoted replies
/// (`<blockquote>`, Gmail's `gmail_quote`, Odoo's `data-o-mail-quote` marks, `>` lines and
/// "On … wrote:" headers) and signatures (after a `-- ` line) are left out.
pub fn message_to_text(html: &str) -> String {
    let text = normalize_whitespace(&html_escape::decode_html_entities(&strip_tags(html, true)));
    let mut kept = Vec::new();
    for line in text.lines() {
        if is_reply_header(line) || line == "--" || line == "-- " {
            break;
        }
        if line.starts_with('>') {
            continue;
        }
        kept.push(line);
    }
    kept.join("\n")
}

/// Whether a line opens a quoted earlier message in common mail clients.
fn is_reply_header(line: &str) -> bool {
    let lower = line.to_lowercase();
    (lower.starts_with("on ") && lower.ends_with("wrote:"))
        || (lower.starts_with("le ")
            && (lower.ends_with("a écrit :") || lower.ends_with("a écrit:")))
        || lower.starts_with("-----original message-----")
        || (lower.starts_with("from:") && lower.contains("sent:"))
}

/// Whether an element's attributes mark it as quoted text of an earlier message.
fn is_quote_element(name: &str, attributes: &str) -> bool {
    name == "blockquote"
        || attributes.contains("gmail_quote")
        || attributes.contains("data-o-mail-quote")
        || attributes.contains("moz-cite-prefix")
}

/// Removes tags, keeping text and line breaks. With `drop_quotes`, quoted elements are skipped
/// with their contents.
fn strip_tags(html: &str, drop_quotes: bool) -> String {
    let mut raw = String::with_capacity(html.len());
    let mut rest = html;
    // The element being skipped and how many elements of the same name are open inside it.
    let mut skipping: Option<(String, usize)> = None;

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
        let self_closing = tag.ends_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();

        if let Some((skipped, depth)) = &mut skipping {
            if *skipped == name && !self_closing {
                if closing {
                    if *depth == 0 {
                        skipping = None;
                    } else {
                        *depth -= 1;
                    }
                } else {
                    *depth += 1;
                }
            }
            continue;
        }
        let quoted = drop_quotes && is_quote_element(&name, tag);
        if !closing && !self_closing && (SKIPPED_TAGS.contains(&name.as_str()) || quoted) {
            skipping = Some((name, 0));
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
    raw
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
    fn quoted_reply_is_dropped() {
        let html = "<p>Yes, Monday works for us.</p>\
            <div class=\"gmail_quote\"><div>On Mon, 2 Nov 2026 at 09:00, Mitchell Admin \
            &lt;admin@example.com&gt; wrote:</div><blockquote><p>Can we meet on Monday?</p>\
            <blockquote><p>older</p></blockquote></blockquote></div><p>After the quote</p>";
        assert_eq!(
            message_to_text(html),
            "Yes, Monday works for us.\nAfter the quote"
        );
    }

    #[test]
    fn odoo_quote_marks_are_dropped() {
        let html = "<p>Thanks!</p><div data-o-mail-quote=\"1\">-- <br>Mitchell Admin</div>";
        assert_eq!(message_to_text(html), "Thanks!");
    }

    #[test]
    fn signature_and_reply_header_end_text() {
        let text = "<p>Please send the quote.<br>-- <br>Carrie Helle<br>Purchase Manager</p>";
        assert_eq!(message_to_text(text), "Please send the quote.");
        let plain =
            "Sounds good.\nOn Tue, Nov 3, 2026 at 10:00 AM Bob <bob@example.com> wrote:\n> hi";
        assert_eq!(message_to_text(plain), "Sounds good.");
        let outlook = "<p>Agreed.</p><p>-----Original Message-----<br>From: Bob</p>";
        assert_eq!(message_to_text(outlook), "Agreed.");
    }

    #[test]
    fn quoted_lines_are_dropped() {
        assert_eq!(
            message_to_text("Fine by me\n> earlier text\nSee you"),
            "Fine by me\nSee you"
        );
    }

    #[test]
    fn html_to_text_keeps_quotes() {
        assert_eq!(html_to_text("<blockquote>quoted</blockquote>"), "quoted");
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
