//! `GET /docs/SysImage.aspx?Table=Items&ID=<guid>`: an item's one picture (Exact holds a single
//! image per item; its `PictureUrl` points here, `PictureName` names it). The bearer token is
//! required as on the API. Items without `PictureName` have no picture: 404. The bytes are a
//! 1×1 PNG whose colour comes from the item's ID, made here rather than stored as a binary file.

use axum::http::StatusCode;

use super::{Exact, envelope, tokens::Access};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

pub const PATH: &str = "/docs/SysImage.aspx";

pub fn serve(exact: &Exact, request: &ApiRequest) -> ApiResponse {
    let now_ms = exact.now_ms();
    let state = exact.lock();
    let token = request.header("authorization").and_then(|h| h.strip_prefix("Bearer ")).map(str::trim);
    if !matches!(token.map(|t| state.tokens.access(t, now_ms)), Some(Access::Valid)) {
        return envelope::error(StatusCode::UNAUTHORIZED, "Unauthorized").with_header("WWW-Authenticate", "Bearer");
    }
    let (Some("Items"), Some(id)) = (request.query_param("Table"), request.query_param("ID")) else {
        return envelope::not_found();
    };
    let item = state.store.find("logistics", "Items").and_then(|i| state.store.at(i).get(id));
    let has_picture = item.and_then(|r| r.get("PictureName")).and_then(|n| n.as_str()).is_some_and(|n| !n.is_empty());
    if !has_picture {
        return envelope::not_found();
    }
    ApiResponse { status: StatusCode::OK, headers: Vec::new(), content_type: Some("image/png"), body: png_of(id), pending: None }
}

/// A valid 1×1 RGB PNG, its colour the first bytes of `id`'s hash: each item's picture differs.
pub fn png_of(id: &str) -> Vec<u8> {
    let seed = id.to_ascii_lowercase().bytes().fold(0x811c_9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193));
    let [r, g, b, _] = seed.to_be_bytes();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    // One scanline: filter byte 0, then the pixel; stored (uncompressed) in a zlib stream.
    let raw = [0u8, r, g, b];
    let mut zlib = vec![0x78, 0x01, 0x01, raw.len() as u8, 0x00, !(raw.len() as u8), 0xff];
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(kind.iter().chain(data));
    png.extend_from_slice(&crc.to_be_bytes());
}

fn crc32<'a>(bytes: impl Iterator<Item = &'a u8>) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_png_is_well_formed() {
        let png = super::png_of("e53fcc59-2b78-47a3-80c9-0f2554cf1bd1");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(super::crc32(b"IEND".iter()), 0xae42_6082);
    }
}
