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
/// (`<blockquote>`, Gmail's `gmail_quote`, Odoo's `data-o-mail-quote` marks, Outlook's reply
/// block, `>` lines and "On … wrote:" headers) and signatures (after a `-- ` line) are left
/// out.
pub fn message_to_text(html: &str) -> String {
    let text = normalize_whitespace(&html_escape::decode_html_entities(&strip_tags(html, true)));
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if starts_quoted_history(&lines[index..]) {
            break;
        }
        if line.starts_with('>') {
            continue;
        }
        kept.push(*line);
    }
    kept.join("\n")
}

/// The maximum number of lines after a "From:" line in which Outlook's reply header has its
/// "Sent:" or "Date:" line. "Sent:" comes right after "From:", but a long sender name or
/// address can wrap over a line or two.
const HEADER_LINES: usize = 3;

/// Checks whether the first of `lines` opens a signature or a quoted earlier message.
fn starts_quoted_history(lines: &[&str]) -> bool {
    let line = lines[0];
    line == "--"
        || is_reply_header(line)
        || lines
            .get(1)
            .is_some_and(|next| is_wrapped_reply_header(line, next))
        || is_header_block(lines)
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

/// Checks whether two lines are one "On … <address> wrote:" header that a plain-text mail
/// client wrapped at its line width, inside or around the address.
fn is_wrapped_reply_header(line: &str, next: &str) -> bool {
    let opens_address = line
        .rfind('<')
        .is_some_and(|open| !line[open..].contains('>'));
    if opens_address {
        return is_reply_header(&format!("{line}{next}"));
    }
    if next.starts_with('<') || line.ends_with('>') {
        return is_reply_header(&format!("{line} {next}"));
    }
    false
}

/// Checks whether `lines` start with Outlook's reply header: a "From:" line with a "Sent:" or
/// "Date:" line at most [`HEADER_LINES`] lines after it.
fn is_header_block(lines: &[&str]) -> bool {
    let starts_with = |line: &str, prefix: &str| {
        line.get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    };
    starts_with(lines[0], "from:")
        && lines
            .iter()
            .skip(1)
            .take(HEADER_LINES)
            .any(|line| starts_with(line, "sent:") || starts_with(line, "date:"))
}

/// Elements that have no end tag and no contents.
const VOID_TAGS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Classes that mail clients put on the element holding a quoted earlier message: Gmail's
/// `gmail_quote` and Thunderbird's `moz-cite-prefix` ("On … wrote:" line).
const QUOTE_CLASSES: &[&str] = &["gmail_quote", "moz-cite-prefix"];

/// Ids of the elements where Outlook starts the quoted earlier message of a reply. Outlook on
/// the web writes an empty `appendonsend` div, a `<hr>`, then the `divRplyFwdMsg` div with the
/// "From:", "Sent:", "To:" and "Subject:" lines. The earlier message follows that div.
const HISTORY_IDS: &[&str] = &["divRplyFwdMsg", "appendonsend"];

/// A start or end tag with its attributes.
#[derive(Debug, PartialEq)]
struct Tag {
    /// The element name, in lowercase.
    name: String,
    closing: bool,
    self_closing: bool,
    /// Attribute names in lowercase, with their values as written (entities not decoded). An
    /// attribute without a value has an empty one.
    attributes: Vec<(String, String)>,
}

impl Tag {
    /// Parses the text between `<` and `>`, such as `p class="x"` or `/div`.
    fn parse(source: &str) -> Tag {
        let closing = source.starts_with('/');
        let body = source.trim_start_matches('/');
        let name_end = body
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(body.len());
        Tag {
            name: body[..name_end].to_ascii_lowercase(),
            closing,
            self_closing: source.ends_with('/'),
            attributes: parse_attributes(&body[name_end..]),
        }
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn has_class(&self, class: &str) -> bool {
        self.attribute("class")
            .is_some_and(|classes| classes.split_ascii_whitespace().any(|token| token == class))
    }

    /// Whether the element is quoted text of an earlier message. Odoo's `html_normalize` marks
    /// such elements with `data-o-mail-quote`. A parent marked `data-o-mail-quote-container` is
    /// not quoted itself: the mark means that its children after the first quoted one are quoted
    /// too, and those children carry `data-o-mail-quote`. `data-o-mail-quote-node` alone marks
    /// nothing either.
    fn is_quote(&self) -> bool {
        self.name == "blockquote"
            || self.attribute("data-o-mail-quote").is_some()
            || QUOTE_CLASSES.iter().any(|class| self.has_class(class))
    }

    /// Checks whether the element and everything after it are the quoted earlier message.
    fn starts_history(&self) -> bool {
        !self.closing
            && self
                .attribute("id")
                .is_some_and(|id| HISTORY_IDS.contains(&id))
    }
}

/// Parses attributes as HTML does. A name ends at `=`, white space or `/`. A value is in double
/// or single quotes, or unquoted up to white space.
fn parse_attributes(source: &str) -> Vec<(String, String)> {
    let mut attributes = Vec::new();
    let mut rest = source;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return attributes;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '/' || c == '=')
            .unwrap_or(rest.len())
            .max(1);
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after_equals) = rest.strip_prefix('=') {
            let (parsed, after_value) = split_value(after_equals.trim_start());
            value = parsed.to_string();
            rest = after_value;
        }
        attributes.push((name, value));
    }
}

/// Splits an attribute value from what follows it.
fn split_value(source: &str) -> (&str, &str) {
    match source.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            let inner = &source[1..];
            match inner.find(quote) {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => (inner, ""),
            }
        }
        _ => {
            let end = source.find(char::is_whitespace).unwrap_or(source.len());
            (&source[..end], &source[end..])
        }
    }
}

/// Finds the `>` that ends a tag, skipping any inside quoted attribute values. A quote that
/// is never closed is taken as text, and the first `>` ends the tag.
fn tag_end(source: &str) -> Option<usize> {
    let mut quote = None;
    let mut after_equals = false;
    for (index, c) in source.char_indices() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if c == '>' => return Some(index),
            None if (c == '"' || c == '\'') && after_equals => quote = Some(c),
            None if c.is_whitespace() => continue,
            None => {}
        }
        after_equals = quote.is_none() && c == '=';
    }
    if quote.is_some() {
        source.find('>')
    } else {
        None
    }
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
        let Some(gt) = tag_end(after) else {
            // An unclosed `<` is text, as browsers show it.
            if skipping.is_none() {
                raw.push_str(&rest[lt..]);
            }
            rest = "";
            break;
        };
        let tag = Tag::parse(&after[..gt]);
        rest = &after[gt + 1..];

        if let Some((skipped, depth)) = &mut skipping {
            if *skipped == tag.name && !tag.self_closing {
                if tag.closing {
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
        // Inline elements such as <span> or <b> add nothing: "a<b>c</b>" reads "ac".
        if BLOCK_TAGS.contains(&tag.name.as_str()) {
            raw.push('\n');
        }
        if drop_quotes && tag.starts_history() {
            // Everything from here on is the earlier message.
            return raw;
        }
        let has_contents =
            !tag.closing && !tag.self_closing && !VOID_TAGS.contains(&tag.name.as_str());
        let quoted = drop_quotes && tag.is_quote();
        if has_contents && (SKIPPED_TAGS.contains(&tag.name.as_str()) || quoted) {
            skipping = Some((tag.name, 0));
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
    fn odoo_quote_container_keeps_text() {
        // Odoo's own test_complex_base body, as html_normalize stores it.
        let html = "<body style=\"margin: 0; padding: 0; background: #ffffff;\" \
            data-o-mail-quote-container=\"1\">\n\n  \
            <p>Please call me as soon as possible this afternoon!</p>\n\n  \
            <p data-o-mail-quote=\"1\">--<br data-o-mail-quote=\"1\">\n     Sylvie\n  </p>\
            <p data-o-mail-quote=\"1\">\n </p></body>";
        assert_eq!(
            message_to_text(html),
            "Please call me as soon as possible this afternoon!"
        );
    }

    #[test]
    fn gmail_reply_marked_by_odoo() {
        let html = "<div data-o-mail-quote-container=\"1\"><div dir=\"ltr\">We need 40 desks \
            delivered to the Lyon office before March.</div>\
            <div class=\"gmail_quote gmail_quote_container\" data-o-mail-quote-container=\"1\" \
            data-o-mail-quote=\"1\"><div dir=\"ltr\" class=\"gmail_attr\" \
            data-o-mail-quote=\"1\">On Mon, Nov 2, 2026 at 9:00 AM Mitchell Admin &lt;<a \
            href=\"mailto:admin@example.com\" data-o-mail-quote=\"1\">admin@example.com</a>&gt; \
            wrote:<br data-o-mail-quote=\"1\"></div><blockquote class=\"gmail_quote\" \
            style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204)\" \
            data-o-mail-quote-node=\"1\" data-o-mail-quote=\"1\"><div \
            data-o-mail-quote=\"1\">Can you confirm the quantities?</div></blockquote></div></div>";
        assert_eq!(
            message_to_text(html),
            "We need 40 desks delivered to the Lyon office before March."
        );
    }

    #[test]
    fn gmail_extra_marked_by_odoo() {
        let html = "<div data-o-mail-quote-container=\"1\"><div dir=\"ltr\">Please send two \
            samples.</div><div class=\"gmail_extra\" data-o-mail-quote=\"1\"><br \
            data-o-mail-quote=\"1\"><div class=\"gmail_quote\" data-o-mail-quote=\"1\">On Mon, \
            Nov 2, 2026 at 9:00 AM Mitchell Admin &lt;admin@example.com&gt; wrote:<br \
            data-o-mail-quote=\"1\"><blockquote class=\"gmail_quote\" data-o-mail-quote=\"1\" \
            data-o-mail-quote-node=\"1\">Which colour?</blockquote></div></div></div>";
        assert_eq!(message_to_text(html), "Please send two samples.");
    }

    #[test]
    fn odoo_signature_wrapper_is_dropped() {
        // A signature block as Odoo's message editor writes it.
        let html = "<p>Hello Carrie,</p><p>Here is the quote for 20 chairs.</p>\
            <div class=\"o-signature-container\" data-o-mail-quote-container=\"1\">\
            <div data-o-mail-quote=\"1\">-- <br data-o-mail-quote=\"1\">\
            <div data-o-mail-quote=\"1\" class=\"o-paragraph\">Mitchell Admin</div></div></div>";
        assert_eq!(
            message_to_text(html),
            "Hello Carrie,\nHere is the quote for 20 chairs."
        );
    }

    #[test]
    fn quote_attributes_match_whole_names() {
        let container = "<div data-o-mail-quote-container=\"1\">Kept</div>";
        assert_eq!(message_to_text(container), "Kept");
        let node = "<p data-o-mail-quote-node=\"1\">Kept</p>";
        assert_eq!(message_to_text(node), "Kept");
        let upper = "<p>Kept</p><p DATA-O-MAIL-QUOTE=\"1\">Dropped</p>";
        assert_eq!(message_to_text(upper), "Kept");
        let unquoted = "<p>Kept</p><p data-o-mail-quote=1>Dropped</p>";
        assert_eq!(message_to_text(unquoted), "Kept");
        let in_value = "<p title=\"data-o-mail-quote\">Kept</p>";
        assert_eq!(message_to_text(in_value), "Kept");
    }

    #[test]
    fn quote_classes_match_whole_tokens() {
        let other_class = "<div class=\"gmail_quote_prefix\">Kept</div>";
        assert_eq!(message_to_text(other_class), "Kept");
        let other_attribute = "<div title=\"gmail_quote\">Kept</div>";
        assert_eq!(message_to_text(other_attribute), "Kept");
        let among_others = "<p>Kept</p><div class='x moz-cite-prefix y'>On … wrote</div>";
        assert_eq!(message_to_text(among_others), "Kept");
    }

    #[test]
    fn quoted_void_element_skips_nothing_else() {
        let html = "<div data-o-mail-quote-container=\"1\"><p>Kept</p></div>\
            <br data-o-mail-quote=\"1\"><p>After</p>";
        assert_eq!(message_to_text(html), "Kept\nAfter");
    }

    #[test]
    fn quoted_value_may_contain_gt() {
        let html = "<p title=\"a > b\">Kept</p><p title='x>y' data-o-mail-quote>Dropped</p>";
        assert_eq!(message_to_text(html), "Kept");
    }

    #[test]
    fn tag_attributes_are_parsed() {
        let tag = Tag::parse("DIV Class=\"a  b\" data-x='1' hidden id=main/");
        assert_eq!(tag.name, "div");
        assert!(tag.self_closing);
        assert_eq!(
            tag.attributes,
            vec![
                ("class".to_string(), "a  b".to_string()),
                ("data-x".to_string(), "1".to_string()),
                ("hidden".to_string(), String::new()),
                ("id".to_string(), "main/".to_string()),
            ]
        );
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
    fn outlook_desktop_reply_header_ends_text() {
        let html = "<html><head><style>p.MsoNormal{margin:0}</style></head><body lang=EN-US>\
            <div class=WordSection1><p class=MsoNormal>Hi Mitchell,<o:p></o:p></p>\
            <p class=MsoNormal>We will take the 20 chairs, please send the invoice.<o:p></o:p></p>\
            <p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Best regards,<o:p></o:p></p>\
            <p class=MsoNormal>Carrie Helle<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>\
            <div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>\
            <p class=MsoNormal><b><span lang=EN-US>From:</span></b><span lang=EN-US> Mitchell \
            Admin &lt;admin@yourcompany.example.com&gt; <br><b>Sent:</b> Monday, November 2, 2026 \
            9:00 AM<br><b>To:</b> Carrie Helle &lt;carrie@deco.example.com&gt;<br><b>Subject:</b> \
            Re: Quote for 20 chairs<o:p></o:p></span></p></div></div><p class=MsoNormal>Dear \
            Carrie, please find our quote for 20 ergonomic chairs attached.<o:p></o:p></p></div>\
            </body></html>";
        assert_eq!(
            message_to_text(html),
            "Hi Mitchell,\nWe will take the 20 chairs, please send the invoice.\n\
             Best regards,\nCarrie Helle"
        );
    }

    #[test]
    fn outlook_web_reply_history_is_dropped() {
        let html = "<div dir=\"ltr\">Thanks, confirmed for Tuesday.</div>\
            <div id=\"appendonsend\"></div><hr style=\"display:inline-block;width:98%\" \
            tabindex=\"-1\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri, \
            sans-serif\" style=\"font-size:11pt\" color=\"#000000\"><b>From:</b> Mitchell Admin \
            &lt;admin@example.com&gt;<br><b>Sent:</b> Monday, November 2, 2026 9:00 AM<br>\
            <b>To:</b> Carrie<br><b>Subject:</b> Demo</font><div>&nbsp;</div></div>\
            <div>Could we meet on Tuesday for the demo?</div>";
        assert_eq!(message_to_text(html), "Thanks, confirmed for Tuesday.");
    }

    #[test]
    fn outlook_reply_block_starts_history() {
        // Without the appendonsend div, as some Outlook versions send it.
        let html = "<div>Confirmed.</div><hr><div id=\"divRplyFwdMsg\" dir=\"ltr\">\
            <b>From:</b> Mitchell Admin</div><div>Could we meet on Tuesday?</div>";
        assert_eq!(message_to_text(html), "Confirmed.");
        // As Odoo marks it: the quoted earlier message outside the container has no mark.
        let marked = "<div id=\"mail_body\" data-o-mail-quote-container=\"1\"><div>Reply from \
            Outlook</div><div id=\"divRplyFwdMsg\" dir=\"ltr\" data-o-mail-quote=\"1\"><b \
            data-o-mail-quote=\"1\">From:</b> Mitchell Admin</div></div><div>Earlier message</div>";
        assert_eq!(message_to_text(marked), "Reply from Outlook");
    }

    #[test]
    fn from_line_alone_is_kept() {
        let text = "From: the Lyon warehouse, 20 desks\nTo be delivered in March\n\
            Thanks\nCarrie\nSent from my phone";
        assert_eq!(message_to_text(text), text);
    }

    #[test]
    fn from_then_date_ends_text() {
        let text = "See below.\nFrom: Mitchell Admin\n<admin@example.com>\n\
            Date: Monday, November 2, 2026\nSubject: Demo\nCould we meet?";
        assert_eq!(message_to_text(text), "See below.");
    }

    #[test]
    fn wrapped_reply_header_ends_text() {
        // Plain-text emails as Odoo stores them: paragraphs in <p>, line breaks as <br>.
        let inside = "<p>Yes please.</p><p>On Mon, Nov 2, 2026 at 9:00 AM Mitchell Admin \
            &lt;<br>admin@example.com&gt; wrote:<br>&gt; Shall I order?<br>More quoted text</p>";
        assert_eq!(message_to_text(inside), "Yes please.");
        let before = "<p>Yes please.</p><p>On Mon, Nov 2, 2026 at 9:00 AM Mitchell Admin<br>\
            &lt;admin@example.com&gt; wrote:<br>Shall I order?</p>";
        assert_eq!(message_to_text(before), "Yes please.");
        let after = "<p>Yes please.</p><p>On Mon, Nov 2, 2026 at 9:00 AM Mitchell Admin \
            &lt;admin@example.com&gt;<br>wrote:<br>Shall I order?</p>";
        assert_eq!(message_to_text(after), "Yes please.");
    }

    #[test]
    fn on_line_without_header_is_kept() {
        let html = "<p>On Monday we need 20 desks &lt;urgent&gt;<br>The team wrote a list</p>";
        assert_eq!(
            message_to_text(html),
            "On Monday we need 20 desks <urgent>\nThe team wrote a list"
        );
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
