//! Self-contained HTML reports: settings, tables and charts (inline SVG) in one file that needs
//! no network to view.

use crate::files::write_atomic;
use crate::{Error, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// An HTML page built section by section.
pub struct Report {
    title: String,
    body: String,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}table.settings td,table.settings th{text-align:left}table.settings td+td{overflow-wrap:anywhere}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.chart svg{max-width:100%;height:auto}\
p.note{color:#555}.row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}.row figure{margin:0;flex:1 1 380px;max-width:540px}";

/// A setting's name as files and flags spell it (`with-replacement`, `sigmoid`): its serde name.
pub fn label<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Report {
    /// An empty report titled `title`.
    pub fn new(title: &str) -> Self {
        let mut body = String::new();
        let _ = writeln!(body, "<h1>{}</h1>", escape(title));
        Report {
            title: title.to_string(),
            body,
        }
    }

    /// A section heading.
    pub fn heading(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<h2>{}</h2>", escape(text));
        self
    }

    /// A paragraph of plain text.
    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
        self
    }

    /// A two-column table of settings (left-aligned); cells are plain text.
    pub fn settings<S: AsRef<str>>(&mut self, rows: &[Vec<S>]) -> &mut Self {
        self.table_with_class("settings", &["setting", "value"], rows)
    }

    /// A table with a header row, numbers right-aligned; cells are plain text.
    pub fn table<S: AsRef<str>>(&mut self, headers: &[&str], rows: &[Vec<S>]) -> &mut Self {
        self.table_with_class("numbers", headers, rows)
    }

    fn table_with_class<S: AsRef<str>>(
        &mut self,
        class: &str,
        headers: &[&str],
        rows: &[Vec<S>],
    ) -> &mut Self {
        let _ = write!(self.body, "<table class=\"{class}\"><tr>");
        for h in headers {
            let _ = write!(self.body, "<th>{}</th>", escape(h));
        }
        self.body.push_str("</tr>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for cell in row {
                let _ = write!(self.body, "<td>{}</td>", escape(cell.as_ref()));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</table>\n");
        self
    }

    /// Embeds an SVG chart file inline, with a caption.
    pub fn svg(&mut self, path: &Path, caption: &str) -> Result<&mut Self> {
        let svg = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let start = svg.find("<svg").unwrap_or(0);
        let _ = writeln!(
            self.body,
            "<figure class=\"chart\">{}<figcaption>{}</figcaption></figure>",
            &svg[start..],
            escape(caption)
        );
        Ok(self)
    }

    /// SVG charts side by side (wrapping when the page is narrow), each with its caption; one
    /// alone is an ordinary [`Report::svg`].
    pub fn svg_row(&mut self, charts: &[(&Path, &str)]) -> Result<&mut Self> {
        if let [(path, caption)] = charts {
            return self.svg(path, caption);
        }
        self.body.push_str("<div class=\"row\">\n");
        for (path, caption) in charts {
            self.svg(path, caption)?;
        }
        self.body.push_str("</div>\n");
        Ok(self)
    }

    /// A "Charts" section embedding every (SVG file, caption) pair, in order.
    pub fn charts(&mut self, svgs: &[(PathBuf, String)]) -> Result<&mut Self> {
        self.heading("Charts");
        for (svg, caption) in svgs {
            self.svg(svg, caption)?;
        }
        Ok(self)
    }

    /// The whole page as one HTML document.
    pub fn to_html(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{}<p class=\"note\">Written by scratchnet {}.</p>\n</body></html>\n",
            escape(&self.title),
            self.body,
            env!("CARGO_PKG_VERSION")
        )
    }

    /// Writes the page to `path` (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_html().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_escapes_text_and_inlines_svg() {
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("c.svg");
        std::fs::write(
            &svg,
            "<?xml version=\"1.0\"?><svg width=\"1\"><rect/></svg>",
        )
        .unwrap();
        let mut r = Report::new("a <test>");
        r.paragraph("x < y & z")
            .table(&["k", "v"], &[vec!["lr", "0.1"]]);
        r.svg(&svg, "chart").unwrap();
        let html = r.to_html();
        assert!(html.contains("<h1>a &lt;test&gt;</h1>"));
        assert!(html.contains("x &lt; y &amp; z"));
        assert!(html.contains("<td>lr</td><td>0.1</td>"));
        assert!(html.contains("<svg width=\"1\"><rect/></svg>") && !html.contains("<?xml"));
    }
}
