//! Which font drew each character of a PDF that headless chromium printed: every font
//! dictionary's name (`/BaseFont`, else its descriptor's `/FontName`, subset tag dropped) and
//! the characters of its `/ToUnicode` map (`bfchar` and `bfrange`, Flate-compressed or not).
//! Chromium (Skia) writes plain objects, no object streams; anything else fails loudly.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// An object: its dictionary text and, for a stream, its bytes as stored.
struct Obj {
    dict: String,
    stream: Option<Vec<u8>>,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The integer after `key` in `dict` (`/Length 123`, `/ToUnicode 28 0 R`).
fn number_after(dict: &str, key: &str) -> Option<u32> {
    let rest = &dict[dict.find(key)? + key.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The name after `key` (`/BaseFont /AAAAAA+NotoSansCJKsc-Regular` → `NotoSansCJKsc-Regular`).
fn name_after(dict: &str, key: &str) -> Option<String> {
    let rest = dict[dict.find(key)? + key.len()..].trim_start();
    let name: String = rest
        .strip_prefix('/')?
        .chars()
        .take_while(|c| !c.is_whitespace() && !"/<>[]()".contains(*c))
        .collect();
    Some(
        name.split_once('+')
            .map_or(name.clone(), |(_, n)| n.to_string()),
    )
}

fn objects(pdf: &[u8]) -> BTreeMap<u32, Obj> {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert!(
        find(pdf, b"/ObjStm", 0).is_none(),
        "object streams are not read here"
    );
    let mut out = BTreeMap::new();
    let mut at = 0;
    while let Some(obj) = find(pdf, b" 0 obj", at) {
        let start = pdf[..obj]
            .iter()
            .rposition(|b| !b.is_ascii_digit())
            .map_or(0, |p| p + 1);
        let number: u32 = std::str::from_utf8(&pdf[start..obj])
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(u32::MAX);
        let body = obj + b" 0 obj".len();
        let end = find(pdf, b"endobj", body).expect("every object ends");
        let stream_at = find(pdf, b"stream", body).filter(|&s| s < end);
        let dict_end = stream_at.unwrap_or(end);
        let dict = String::from_utf8_lossy(&pdf[body..dict_end]).into_owned();
        let mut next = end;
        let stream = stream_at.map(|s| {
            let mut data = s + b"stream".len();
            data += usize::from(pdf[data] == b'\r');
            data += usize::from(pdf[data] == b'\n');
            // `/Length 123`, or `/Length 12 0 R` (then up to `endstream`)
            let direct = number_after(&dict, "/Length")
                .filter(|n| !dict.contains(&format!("/Length {n} 0 R")));
            let stop = direct.map_or_else(
                || find(pdf, b"endstream", data).expect("a stream ends"),
                |len| data + len as usize,
            );
            next = find(pdf, b"endobj", stop).expect("the stream's object ends");
            pdf[data..stop].to_vec()
        });
        out.insert(number, Obj { dict, stream });
        at = next;
    }
    out
}

/// A stream's bytes, inflated when Flate-compressed.
fn decoded(obj: &Obj) -> Vec<u8> {
    let raw = obj.stream.as_deref().expect("a stream");
    if !obj.dict.contains("/FlateDecode") {
        return raw.to_vec();
    }
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(raw)
        .read_to_end(&mut out)
        .expect("a Flate stream inflates");
    out
}

fn hex(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_matches(['<', '>']), 16).ok()
}

fn utf16(s: &str) -> String {
    let hex = s.trim_matches(['<', '>']);
    let units: Vec<u16> = (0..hex.len() / 4)
        .filter_map(|i| u16::from_str_radix(&hex[i * 4..i * 4 + 4], 16).ok())
        .collect();
    String::from_utf16_lossy(&units)
}

/// The characters a ToUnicode CMap maps glyphs to.
fn cmap_chars(cmap: &str) -> BTreeSet<char> {
    let mut out = BTreeSet::new();
    for block in cmap.split("beginbfchar").skip(1) {
        let block = block.split("endbfchar").next().unwrap_or("");
        for line in block.lines() {
            if let Some((_, dst)) = line.trim().split_once(' ') {
                out.extend(utf16(dst.trim()).chars());
            }
        }
    }
    for block in cmap.split("beginbfrange").skip(1) {
        let block = block.split("endbfrange").next().unwrap_or("");
        for line in block.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [lo, hi, dst] = parts[..] else { continue };
            let (Some(lo), Some(hi)) = (hex(lo), hex(hi)) else {
                continue;
            };
            let Some(first) = utf16(dst).chars().next() else {
                continue;
            };
            out.extend(
                (0..=hi.saturating_sub(lo)).filter_map(|i| char::from_u32(first as u32 + i)),
            );
        }
    }
    out
}

/// Each character drawn in `pdf`, with the names of the fonts that drew it.
pub fn fonts_by_char(pdf: &[u8]) -> BTreeMap<char, BTreeSet<String>> {
    let objects = objects(pdf);
    let mut out: BTreeMap<char, BTreeSet<String>> = BTreeMap::new();
    for obj in objects.values() {
        let Some(map) = number_after(&obj.dict, "/ToUnicode") else {
            continue;
        };
        let name = name_after(&obj.dict, "/BaseFont")
            .or_else(|| {
                let descriptor = number_after(&obj.dict, "/FontDescriptor")?;
                name_after(&objects.get(&descriptor)?.dict, "/FontName")
            })
            .unwrap_or_else(|| "(unnamed)".to_string());
        let cmap = objects.get(&map).expect("the ToUnicode map is there");
        for c in cmap_chars(&String::from_utf8_lossy(&decoded(cmap))) {
            out.entry(c).or_default().insert(name.clone());
        }
    }
    out
}

#[test]
fn reads_bfchar_and_bfrange_maps() {
    let cmap =
        "1 beginbfchar\n<D2> <58F0>\nendbfchar\n1 beginbfrange\n<01> <03> <A188>\nendbfrange";
    let chars = cmap_chars(cmap);
    assert_eq!(
        chars.into_iter().collect::<String>(),
        "声\u{a188}\u{a189}\u{a18a}"
    );
    assert_eq!(
        name_after(
            "/FontName /CAAAAA+NotoSansCJKsc-Regular /Flags 4",
            "/FontName"
        )
        .unwrap(),
        "NotoSansCJKsc-Regular"
    );
}
