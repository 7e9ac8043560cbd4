//! What reaches the terminal: the colour decision, tables, progress bars and the one-line
//! messages on stderr. Data goes to stdout; everything else to stderr.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use comfy_table::{presets, ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{ColorChoice, GlobalArgs};
use crate::sync::Reporter;

/// Output decisions of one invocation.
#[derive(Debug, Clone)]
pub struct Output {
    pub json: bool,
    pub quiet: bool,
    /// Colour and styling on stdout (tables).
    pub color_stdout: bool,
    /// Colour on stderr (logs and messages).
    pub color_stderr: bool,
    /// Progress bars may be drawn on stderr.
    pub progress: bool,
}

impl Output {
    pub fn new(args: &GlobalArgs) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |is_terminal: bool| match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && !no_color,
        };
        let stderr_terminal = std::io::stderr().is_terminal();
        let color_stderr = decide(stderr_terminal);
        Output {
            json: args.json,
            quiet: args.quiet,
            color_stdout: decide(std::io::stdout().is_terminal()),
            color_stderr,
            // A bar redraws itself with escape sequences, so NO_COLOR and `--color never`,
            // which promise none, turn it off as well.
            progress: stderr_terminal && color_stderr && !args.no_progress && !args.quiet,
        }
    }

    /// A table styled for a terminal, or plain ASCII without colour when stdout is not one. An
    /// empty `header` leaves out the header row.
    pub fn table(&self, header: &[&str]) -> Table {
        let mut table = Table::new();
        if self.color_stdout {
            table.load_preset(presets::UTF8_FULL_CONDENSED);
            // A terminal that reports 0 columns (a pseudo-terminal whose size was never set,
            // as on some CI runners) would squeeze every column to one character.
            let arrangement = match table.width() {
                Some(width) if width > 0 => ContentArrangement::Dynamic,
                _ => ContentArrangement::Disabled,
            };
            table.set_content_arrangement(arrangement);
        } else {
            table.load_preset(presets::ASCII_MARKDOWN);
            table.force_no_tty();
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
        if !header.is_empty() {
            table.set_header(header.iter().copied());
        }
        table
    }

    /// Prints a line of data on stdout.
    pub fn data(&self, text: &str) -> std::io::Result<()> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}")?;
        stdout.flush()
    }

    /// Prints a JSON document on stdout.
    pub fn json_value(&self, value: &serde_json::Value) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_string());
        self.data(&text)
    }

    /// Prints a message for people on stderr, unless `--quiet`.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// Prints a warning on stderr, unless `--quiet`.
    pub fn warning(&self, text: &str) {
        if !self.quiet {
            eprintln!("warning: {text}");
        }
    }

    /// A progress reporter: a bar on a terminal, nothing otherwise.
    pub fn reporter(&self, verb: &str) -> std::sync::Arc<dyn Reporter> {
        if self.progress {
            std::sync::Arc::new(BarReporter::new(verb))
        } else {
            std::sync::Arc::new(crate::sync::NoProgress)
        }
    }
}

/// A progress bar on stderr: leads done of total, rate and ETA.
pub struct BarReporter {
    bar: ProgressBar,
}

impl BarReporter {
    fn new(verb: &str) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let template = format!("{verb} {{bar:30}} {{pos}}/{{len}} leads, {{per_sec}}, ETA {{eta}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        BarReporter { bar }
    }
}

impl Reporter for BarReporter {
    fn start(&self, total: Option<u64>) {
        if let Some(total) = total {
            self.bar.set_length(total);
        }
    }

    fn advance(&self, count: u64) {
        self.bar.inc(count);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Makes text from a peer (an Odoo error, an embedding endpoint's body) safe to print on a
/// terminal: control characters are shown escaped, so that they cannot move the cursor or
/// change the title, and each further line is indented, so that none can pass for a line of
/// crm-vec's own such as `error: …`.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\n  "),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// Formats an amount for a table: rounded to cents, thousands separated, no decimals for whole
/// numbers.
pub fn format_amount(amount: f64) -> String {
    // Rounded as a whole, so that 0.999 becomes 1 instead of 0 and 100 cents.
    let total_cents = (amount * 100.0).round() as i64;
    let whole = total_cents.unsigned_abs() / 100;
    let cents = total_cents.unsigned_abs() % 100;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if total_cents < 0 { "-" } else { "" };
    if cents == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{cents:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_terminal_controls() {
        assert_eq!(printable("a\x1b[2Jb\x07"), "a\\u{1b}[2Jb\\u{7}");
        assert_eq!(printable("x\r\nerror: fake"), "x\\u{d}\n  error: fake");
        assert_eq!(printable("tab\tand ünïcode"), "tab\tand ünïcode");
    }

    #[test]
    fn amounts_are_grouped() {
        assert_eq!(format_amount(0.0), "0");
        assert_eq!(format_amount(24000.0), "24,000");
        assert_eq!(format_amount(1234567.5), "1,234,567.50");
        assert_eq!(format_amount(-999.0), "-999");
    }

    #[test]
    fn amounts_round_to_cents_first() {
        assert_eq!(format_amount(0.999), "1");
        assert_eq!(format_amount(999.995), "1,000");
        assert_eq!(format_amount(-1.004), "-1");
        assert_eq!(format_amount(-0.5), "-0.50");
        assert_eq!(format_amount(-0.001), "0");
        assert_eq!(format_amount(12.346), "12.35");
    }
}
