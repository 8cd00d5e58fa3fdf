//! Writing an [`Ebd`] as EBDB XML: the envelope and every body, indented like the samples,
//! UTF-8 with correct escaping (Han and Yi text pass through; markup characters are escaped and
//! characters XML 1.0 forbids are replaced).

use chrono::{DateTime, Utc};

use super::model::*;

/// A small indenting XML writer.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
    stack: Vec<&'static str>,
}

/// Escape text for element content or attribute values.
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    escape_into(&mut s, text);
    s
}

/// [`escape`], appended to `out`.
fn escape_into(out: &mut String, text: &str) {
    // Most text (ids, codes, times, Han and Yi titles) has nothing to escape: copied whole. A
    // byte 0xEF may start U+FFFE or U+FFFF, so text holding one is looked at char by char.
    let plain = |b: &u8| {
        !matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0xEF)
            && (*b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
    };
    if text.as_bytes().iter().all(plain) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

impl XmlWriter {
    /// A writer that starts with the XML declaration.
    pub fn new() -> XmlWriter {
        // A package's EBDB is a few kilobytes: one allocation, not a dozen regrowths.
        let mut out = String::with_capacity(4096);
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        XmlWriter {
            out,
            stack: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.stack.len() {
            self.out.push_str("  ");
        }
    }

    /// Open an element, with raw (already safe) attributes.
    pub fn open_with(&mut self, name: &'static str, attrs: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(attrs);
        self.out.push_str(">\n");
        self.stack.push(name);
    }

    pub fn open(&mut self, name: &'static str) {
        self.open_with(name, "");
    }

    pub fn close(&mut self) {
        let name = self.stack.pop().expect("close without open");
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        escape_into(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    pub fn leaf_opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, t);
        }
    }

    pub fn time(&mut self, name: &str, t: DateTime<Utc>) {
        self.leaf(name, &format_time(t));
    }

    pub fn finish(self) -> String {
        debug_assert!(self.stack.is_empty());
        self.out
    }
}

/// The EBDB XML of `ebd`.
pub fn write_ebd(ebd: &Ebd) -> String {
    let mut w = XmlWriter::new();
    w.open_with("EBD", " xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"");
    w.leaf("EBDVersion", &ebd.version);
    w.leaf("EBDID", ebd.id.as_str());
    w.leaf("EBDType", ebd.kind());
    w.open("SRC");
    w.leaf("EBRID", ebd.src.ebrid.as_str());
    w.leaf_opt("URL", ebd.src.url.as_deref());
    w.close();
    if let Some(dest) = &ebd.dest {
        w.open("DEST");
        w.leaf("EBRID", dest.as_str());
        w.close();
    }
    w.time("EBDTime", ebd.time);
    if let Some(rel) = &ebd.related {
        w.open("RelatedEBD");
        w.leaf("EBDID", rel.as_str());
        w.close();
    }
    write_body(&mut w, &ebd.body);
    w.close();
    w.finish()
}

fn write_body(w: &mut XmlWriter, body: &Body) {
    match body {
        Body::Ebm(ebm) => write_ebm(w, ebm),
        Body::EbdResponse(r) => {
            w.open("EBDResponse");
            w.leaf("ResultCode", &r.result_code.to_string());
            w.leaf("ResultDesc", &r.result_desc);
            w.close();
        }
        Body::EbmStateRequest(r) => {
            w.open("EBMStateRequest");
            w.open("EBM");
            w.leaf("EBMID", r.ebm_id.as_str());
            w.close();
            w.close();
        }
        Body::EbmStateResponse(r) => write_state_response(w, r),
        Body::OmdRequest(r) => {
            w.open("OMDRequest");
            w.leaf("OMDType", &r.omd_type);
            write_params(w, &r.params);
            w.close();
        }
        Body::EbmBrdLog(log) => write_brd_log(w, log),
        Body::ConnectionCheck(c) => {
            w.open("ConnectionCheck");
            w.time("RptTime", c.rpt_time);
            w.close();
        }
    }
}

/// An `EBM` element (also used inside `EBMBrdItem`).
pub fn write_ebm(w: &mut XmlWriter, ebm: &Ebm) {
    w.open("EBM");
    w.leaf("EBMVersion", &ebm.version);
    w.leaf("EBMID", ebm.id.as_str());
    if let Some(rel) = &ebm.related {
        w.open("RelatedInfo");
        w.leaf("EBMID", rel.as_str());
        w.close();
    }
    let b = &ebm.basic;
    w.open("MsgBasicInfo");
    w.leaf("MsgType", &b.msg_type.code().to_string());
    w.leaf("SenderName", &b.sender_name);
    w.leaf("SenderCode", &b.sender_code);
    w.time("SendTime", b.send_time);
    w.leaf("EventType", &b.event_type);
    w.leaf("Severity", &b.severity.to_string());
    w.time("StartTime", b.start_time);
    w.time("EndTime", b.end_time);
    w.close();
    if let Some(c) = &ebm.content {
        write_content(w, c);
    }
    w.close();
}

fn write_content(w: &mut XmlWriter, c: &MsgContent) {
    w.open("MsgContent");
    w.leaf("LanguageCode", &c.language_code);
    w.leaf("MsgTitle", &c.title);
    w.leaf_opt("MsgDesc", c.desc.as_deref());
    w.leaf("AreaCode", &c.area_codes.join(","));
    for a in &c.auxiliary {
        w.open("Auxiliary");
        w.leaf("AuxiliaryType", &a.kind.to_string());
        w.leaf("AuxiliaryDesc", &a.desc);
        w.leaf_opt("Size", a.size.map(|s| s.to_string()).as_deref());
        w.leaf_opt("Digest", a.digest.as_deref());
        w.close();
    }
    w.close();
}

fn write_params(w: &mut XmlWriter, p: &LogParams) {
    w.open("Params");
    w.time("RptStartTime", p.start);
    w.time("RptEndTime", p.end);
    if let Some(t) = p.rpt_type {
        let text = match t {
            RptType::Full => "Full",
            RptType::Incremental => "Incremental",
        };
        w.leaf("RptType", text);
    }
    w.close();
}

fn write_coverage(w: &mut XmlWriter, c: &Coverage) {
    w.open("Coverage");
    match c.figure {
        Some(CoverageFigure::Rate(r)) => w.leaf("CoverageRate", &r.to_string()),
        Some(CoverageFigure::Percent(p)) => w.leaf("CoveragePercent", &p.to_string()),
        None => {}
    }
    w.leaf("AreaCode", &c.area_codes.join(","));
    if let Some(s) = c.res_brd_stat {
        let text = format!(
            "{},{},{},{}",
            s.platforms, s.adapters, s.transmitters, s.terminals
        );
        w.leaf("ResBrdStat", &text);
    }
    w.close();
}

fn write_res_brd_info(w: &mut XmlWriter, items: &[ResBrdItem]) {
    if items.is_empty() {
        return;
    }
    w.open("ResBrdInfo");
    for item in items {
        w.open("ResBrdItem");
        if let Some(id) = &item.ebrps {
            w.open("EBRPS");
            w.leaf("EBRID", id.as_str());
            w.close();
        }
        for bs in &item.ebrbs {
            w.open("EBRBS");
            if let Some(t) = bs.rpt_time {
                w.time("RptTime", t);
            }
            w.leaf_opt("BrdSysInfo", bs.brd_sys_info.as_deref());
            if let Some(t) = bs.start_time {
                w.time("StartTime", t);
            }
            if let Some(t) = bs.end_time {
                w.time("EndTime", t);
            }
            w.leaf_opt("FileURL", bs.file_url.as_deref());
            w.leaf_opt(
                "BrdStateCode",
                bs.brd_state_code.map(|c| c.to_string()).as_deref(),
            );
            w.leaf_opt("BrdStateDesc", bs.brd_state_desc.as_deref());
            w.close();
        }
        w.close();
    }
    w.close();
}

fn write_state_response(w: &mut XmlWriter, r: &EbmStateResponse) {
    w.open("EBMStateResponse");
    w.time("RptTime", r.rpt_time);
    w.open("EBM");
    w.leaf("EBMID", r.ebm_id.as_str());
    w.close();
    w.leaf("BrdStateCode", &r.brd_state_code.to_string());
    w.leaf_opt("BrdStateDesc", r.brd_state_desc.as_deref());
    if let Some(c) = &r.coverage {
        write_coverage(w, c);
    }
    write_res_brd_info(w, &r.res_brd_info);
    w.close();
}

fn write_brd_log(w: &mut XmlWriter, log: &EbmBrdLog) {
    w.open("EBMBrdLog");
    if let Some(p) = &log.params {
        write_params(w, p);
    }
    for item in &log.items {
        w.open("EBMBrdItem");
        write_ebm(w, &item.ebm);
        if !item.units.is_empty() {
            w.open("UnitInfo");
            for u in &item.units {
                w.open("Unit");
                if let Some(id) = &u.ebrps {
                    w.open("EBRPS");
                    w.leaf("EBRID", id.as_str());
                    w.close();
                }
                w.leaf_opt("UnitId", u.unit_id.as_deref());
                w.leaf_opt("UnitName", u.unit_name.as_deref());
                w.leaf_opt("PersonID", u.person_id.as_deref());
                w.leaf_opt("PersonName", u.person_name.as_deref());
                w.close();
            }
            w.close();
        }
        w.leaf("BrdStateCode", &item.brd_state_code.to_string());
        w.leaf_opt("BrdStateDesc", item.brd_state_desc.as_deref());
        if let Some(c) = &item.coverage {
            write_coverage(w, c);
        }
        write_res_brd_info(w, &item.res_brd_info);
        w.close();
    }
    w.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_markup_keeps_han_and_yi() {
        assert_eq!(
            escape("ꆈꌠ <诈骗> & \"x\" 'y'"),
            "ꆈꌠ &lt;诈骗&gt; &amp; &quot;x&quot; &apos;y&apos;"
        );
        assert_eq!(escape("a\u{1}b"), "a\u{FFFD}b");
        // Text with nothing to escape is copied whole, full-width punctuation (a byte 0xEF,
        // as U+FFFE starts) and tabs and newlines included.
        assert_eq!(escape("ꆈꌠ 诈骗，勿信！\t1\n"), "ꆈꌠ 诈骗，勿信！\t1\n");
        assert_eq!(escape("x\u{FFFE}y\u{FFFF}"), "x\u{FFFD}y\u{FFFD}");
        assert_eq!(escape("\r\u{7F}é"), "\r\u{7F}é");
        let mut w = XmlWriter::new();
        w.leaf("T", "a<b\u{0}");
        assert!(w.finish().ends_with("<T>a&lt;b\u{FFFD}</T>\n"));
    }

    #[test]
    fn writer_indents_and_nests() {
        let mut w = XmlWriter::new();
        w.open("A");
        w.leaf("B", "1");
        w.close();
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<A>\n  <B>1</B>\n</A>\n"
        );
    }
}
