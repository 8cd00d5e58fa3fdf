//! The page's own Nuosu Yi face, served by the app so Yi text is drawn on machines with no Yi
//! font (macOS, most Linux): Noto Sans Yi 2.000 as WOFF2 (`src/server/page/fonts/`, from Debian's
//! `fonts-noto-core`, SIL Open Font License 1.1 with no Reserved Font Name; `OFL.txt` beside it
//! and served at `/fonts/OFL.txt`). 57 KB, embedded: nothing is fetched at run time.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::server::error::AppError;

/// The face's URL; its version is in the name, so it is cached for good.
pub const YI_URL: &str = "/fonts/noto-sans-yi-2.000.woff2";
/// The family name the page gives it (not a system font's name, so a system face never
/// stands in for it by mistake).
pub const YI_FAMILY: &str = "Shengbo Noto Sans Yi";

const YI_WOFF2: &[u8] = include_bytes!("fonts/NotoSansYi-Regular.woff2");
const OFL: &str = include_str!("fonts/OFL.txt");

/// The `@font-face` rule: only Yi syllables and radicals (U+A000–A4CF) ask for it.
pub fn face() -> String {
    format!(
        "@font-face{{font-family:\"{YI_FAMILY}\";src:url({YI_URL}) format(\"woff2\");\
         unicode-range:U+A000-A4CF;font-display:swap}}"
    )
}

/// `GET /fonts/{file}`: the face and its licence, to anyone (they hold no data).
pub async fn serve(Path(file): Path<String>) -> Result<Response, AppError> {
    let immutable = "public, max-age=31536000, immutable";
    match format!("/fonts/{file}").as_str() {
        YI_URL => Ok((
            [
                (header::CONTENT_TYPE, "font/woff2"),
                (header::CACHE_CONTROL, immutable),
            ],
            YI_WOFF2,
        )
            .into_response()),
        "/fonts/OFL.txt" => Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            OFL,
        )
            .into_response()),
        _ => Err(AppError::NotFound {
            message: crate::t!("http-no-font", file = file.as_str()),
            suggestion: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_face_is_woff2_with_its_licence() {
        assert!(YI_WOFF2.starts_with(b"wOF2"));
        assert!(OFL.contains("SIL OPEN FONT LICENSE Version 1.1"));
        assert!(face().contains("unicode-range:U+A000-A4CF"));
    }
}
