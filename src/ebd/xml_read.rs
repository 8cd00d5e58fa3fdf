//! Reading EBDB XML into an [`Ebd`]: tolerant where the profile says deployments differ
//! (`EBDVersion` "1.0", no `RelatedEBD`, decorative namespaces), strict about required fields.
//! DTDs are refused (no entity expansion from untrusted input).

use chrono::{DateTime, Utc};
use roxmltree::{Document, Node, ParsingOptions};

use super::ids::{EbdId, EbmId, Ebrid, IdError, IdFormat, check_region_code};
use super::model::*;

/// Why EBDB XML could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed xml: {0}")]
    Malformed(#[source] roxmltree::Error),
    #[error("root element is `{0}`, expected `EBD`")]
    Root(String),
    #[error("line {line}: missing `{path}`")]
    Missing { path: String, line: u32 },
    #[error("line {line}: `{path}` value `{value}`: {reason}")]
    Invalid {
        path: String,
        value: String,
        reason: String,
        line: u32,
    },
    #[error("unsupported EBDType `{0}`")]
    UnsupportedType(String),
}

impl XmlError {
    /// A required element is absent (ResultCode 3) rather than malformed (ResultCode 2).
    pub fn is_missing(&self) -> bool {
        matches!(self, XmlError::Missing { .. })
    }
}

type R<T> = Result<T, XmlError>;

/// Node plus its path, for messages.
#[derive(Clone, Copy)]
struct At<'a, 'i> {
    node: Node<'a, 'i>,
    path: &'a str,
}

struct Ctx {
    format: IdFormat,
}

fn line(node: Node) -> u32 {
    node.document().text_pos_at(node.range().start).row
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn text(node: Node, name: &str) -> Option<String> {
    let t = child(node, name)?.text().unwrap_or("").trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn req<'a, 'i>(node: Node<'a, 'i>, path: &str, name: &str) -> R<Node<'a, 'i>> {
    child(node, name).ok_or_else(|| XmlError::Missing {
        path: format!("{path}/{name}"),
        line: line(node),
    })
}

fn req_text(node: Node, path: &str, name: &str) -> R<String> {
    req(node, path, name)?;
    text(node, name).ok_or_else(|| XmlError::Missing {
        path: format!("{path}/{name}"),
        line: line(node),
    })
}

fn invalid(node: Node, path: &str, name: &str, value: &str, reason: impl ToString) -> XmlError {
    XmlError::Invalid {
        path: format!("{path}/{name}"),
        value: value.to_owned(),
        reason: reason.to_string(),
        line: child(node, name).map_or_else(|| line(node), line),
    }
}

fn conv<T>(
    node: Node,
    path: &str,
    name: &str,
    v: &str,
    f: impl FnOnce(&str) -> Result<T, IdError>,
) -> R<T> {
    f(v).map_err(|e| invalid(node, path, name, v, e))
}

fn req_time(node: Node, path: &str, name: &str) -> R<DateTime<Utc>> {
    let v = req_text(node, path, name)?;
    parse_time(&v).ok_or_else(|| invalid(node, path, name, &v, "expected `YYYY-MM-DD hh:mm:ss`"))
}

fn opt_time(node: Node, path: &str, name: &str) -> R<Option<DateTime<Utc>>> {
    match text(node, name) {
        None => Ok(None),
        Some(_) => req_time(node, path, name).map(Some),
    }
}

fn req_num<T: std::str::FromStr>(node: Node, path: &str, name: &str) -> R<T> {
    let v = req_text(node, path, name)?;
    v.parse()
        .map_err(|_| invalid(node, path, name, &v, "expected a number"))
}

fn opt_num<T: std::str::FromStr>(node: Node, path: &str, name: &str) -> R<Option<T>> {
    match text(node, name) {
        None => Ok(None),
        Some(_) => req_num(node, path, name).map(Some),
    }
}

fn area_codes(node: Node, path: &str, name: &str) -> R<Vec<String>> {
    let v = req_text(node, path, name)?;
    let codes: Vec<String> = v.split(',').map(|c| c.trim().to_owned()).collect();
    for c in &codes {
        conv(node, path, name, c, check_region_code)?;
    }
    Ok(codes)
}

/// Parse EBDB XML; ids are checked against `format`.
pub fn parse_ebd(xml: &str, format: IdFormat) -> R<Ebd> {
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: 100_000,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml, opts).map_err(XmlError::Malformed)?;
    let root = doc.root_element();
    if root.tag_name().name() != "EBD" {
        return Err(XmlError::Root(root.tag_name().name().to_owned()));
    }
    Ctx { format }.ebd(root)
}

impl Ctx {
    fn ebd(&self, n: Node) -> R<Ebd> {
        let p = "EBD";
        let version = req_text(n, p, "EBDVersion")?;
        if version != "1" && version != "1.0" {
            return Err(invalid(n, p, "EBDVersion", &version, "expected `1`"));
        }
        let id = self.ebdid(n, p, "EBDID")?;
        let kind = req_text(n, p, "EBDType")?;
        let src_node = req(n, p, "SRC")?;
        let src = Src {
            ebrid: self.ebrid(src_node, "EBD/SRC", "EBRID")?,
            url: text(src_node, "URL"),
        };
        let dest = match child(n, "DEST") {
            Some(d) => Some(self.ebrid(d, "EBD/DEST", "EBRID")?),
            None => None,
        };
        let time = req_time(n, p, "EBDTime")?;
        let related = match child(n, "RelatedEBD") {
            Some(r) if text(r, "EBDID").is_some() => {
                Some(self.ebdid(r, "EBD/RelatedEBD", "EBDID")?)
            }
            _ => None,
        };
        let body = self.body(n, &kind)?;
        Ok(Ebd {
            version,
            id,
            src,
            dest,
            time,
            related,
            body,
        })
    }

    fn ebrid(&self, n: Node, p: &str, name: &str) -> R<Ebrid> {
        let v = req_text(n, p, name)?;
        conv(n, p, name, &v, |s| Ebrid::parse(s, self.format))
    }

    fn ebdid(&self, n: Node, p: &str, name: &str) -> R<EbdId> {
        let v = req_text(n, p, name)?;
        conv(n, p, name, &v, |s| EbdId::parse(s, self.format))
    }

    fn ebmid(&self, n: Node, p: &str, name: &str) -> R<EbmId> {
        let v = req_text(n, p, name)?;
        conv(n, p, name, &v, |s| EbmId::parse(s, self.format))
    }

    fn body(&self, n: Node, kind: &str) -> R<Body> {
        let known = [
            "EBM",
            "EBDResponse",
            "EBMStateRequest",
            "EBMStateResponse",
            "OMDRequest",
            "EBMBrdLog",
            "ConnectionCheck",
        ];
        if !known.contains(&kind) {
            return Err(XmlError::UnsupportedType(kind.to_owned()));
        }
        let b = req(n, "EBD", kind)?;
        let at = At {
            node: b,
            path: &format!("EBD/{kind}"),
        };
        Ok(match kind {
            "EBM" => Body::Ebm(self.ebm(at, true)?),
            "EBDResponse" => Body::EbdResponse(EbdResponse {
                result_code: req_num(b, at.path, "ResultCode")?,
                result_desc: text(b, "ResultDesc").unwrap_or_default(),
            }),
            "EBMStateRequest" => {
                let e = req(b, at.path, "EBM")?;
                Body::EbmStateRequest(EbmStateRequest {
                    ebm_id: self.ebmid(e, &format!("{}/EBM", at.path), "EBMID")?,
                })
            }
            "EBMStateResponse" => Body::EbmStateResponse(self.state_response(at)?),
            "OMDRequest" => Body::OmdRequest(OmdRequest {
                omd_type: req_text(b, at.path, "OMDType")?,
                params: params(req(b, at.path, "Params")?, &format!("{}/Params", at.path))?,
            }),
            "EBMBrdLog" => Body::EbmBrdLog(self.brd_log(at)?),
            _ => Body::ConnectionCheck(ConnectionCheck {
                rpt_time: req_time(b, at.path, "RptTime")?,
            }),
        })
    }
}

fn params(n: Node, p: &str) -> R<LogParams> {
    let rpt_type = match text(n, "RptType").as_deref() {
        None => None,
        Some("Full") => Some(RptType::Full),
        Some("Incremental") => Some(RptType::Incremental),
        Some(v) => {
            return Err(invalid(
                n,
                p,
                "RptType",
                v,
                "expected `Full` or `Incremental`",
            ));
        }
    };
    Ok(LogParams {
        start: req_time(n, p, "RptStartTime")?,
        end: req_time(n, p, "RptEndTime")?,
        rpt_type,
    })
}

mod body;
