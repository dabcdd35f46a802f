//! Photos sized at capture (ADR 0035): a camera's JPEG (or a PNG) is decoded
//! in full (a damaged file is refused, nothing stored), scaled down so its
//! longer side is at most the county's [`PhotoPolicy::long_edge_px`], turned
//! upright by its EXIF orientation and saved as a JPEG of
//! [`PhotoPolicy::jpeg_quality`]. The new file's EXIF keeps the capture time,
//! and the location and device fields only where the policy says so.
//!
//! A photo already within the long edge and carrying no location or device
//! field the policy drops is kept byte for byte (re-encoding it would only
//! lose quality). WebP and HEIC, which the phone library does not decode (its
//! size budget), are kept as taken.
//!
//! Memory: the decoded picture (3 bytes a pixel) plus the scaled one; the
//! scaling averages blocks of pixels with no floating-point copy of the
//! picture, and the turn happens after it, on the small picture.

use std::io::Cursor;

use exif::{Context, Field, In, Tag};
use fengqiao_domain::policy::PhotoPolicy;
use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};

use crate::error::Error;

/// Stable reason (of `invalid_input`) for a photo whose bytes start as an
/// image but cannot be decoded (damaged, cut short).
pub(crate) const CORRUPT: &str = "photo_corrupt";
/// Stable reason (of `invalid_input`) for a photo with more pixels than the
/// phone sizes ([`MAX_PIXELS`]).
pub(crate) const TOO_MANY_PIXELS: &str = "photo_too_many_pixels";

/// Most pixels a photo may have to be sized (64 megapixels: a phone
/// camera's full-resolution mode; decoded, 192 MB).
pub(crate) const MAX_PIXELS: u64 = 64_000_000;
/// Longest side a decoded photo may have, in pixels.
const MAX_SIDE: u32 = 16_384;

/// What sizing made of a photo.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sized {
    /// Kept byte for byte: within the long edge with nothing to drop, or a
    /// type the phone does not decode.
    AsTaken,
    /// Scaled and/or stripped: a new JPEG.
    Jpeg(Vec<u8>),
}

/// How a county sizes photos (the part of [`PhotoPolicy`] sizing reads).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// Longest side, in pixels.
    pub long_edge: u32,
    /// JPEG quality, 1 to 100.
    pub quality: u8,
    /// Keep the EXIF GPS fields.
    pub keep_location: bool,
    /// Keep the EXIF device fields.
    pub keep_device: bool,
}

impl From<&PhotoPolicy> for Rules {
    fn from(p: &PhotoPolicy) -> Rules {
        Rules {
            long_edge: p.long_edge_px,
            quality: p.jpeg_quality,
            keep_location: p.keep_location,
            keep_device: p.keep_device,
        }
    }
}

fn corrupt() -> Error {
    Error::BadInput {
        reason: CORRUPT, message: "照片文件已损坏或不完整，无法打开：请重新拍摄或重新选择照片".into()
    }
}

fn too_many_pixels() -> Error {
    Error::BadInput {
        reason: TOO_MANY_PIXELS,
        message: format!("照片像素太多（超过 {} 万像素），手机无法处理：请用相机的普通画质重拍", MAX_PIXELS / 10_000),
    }
}

fn decode_err(e: ImageError) -> Error {
    match e {
        ImageError::Limits(_) => too_many_pixels(),
        _ => corrupt(),
    }
}

/// Device fields: who made and owns the camera, and its serial numbers.
const DEVICE_TAGS: [Tag; 9] = [
    Tag::Make,
    Tag::Model,
    Tag::Software,
    Tag::Artist,
    Tag::CameraOwnerName,
    Tag::BodySerialNumber,
    Tag::LensMake,
    Tag::LensModel,
    Tag::LensSerialNumber,
];

/// Time fields, always kept: when the photo was taken is part of the evidence.
const TIME_TAGS: [Tag; 6] = [
    Tag::DateTime,
    Tag::DateTimeOriginal,
    Tag::DateTimeDigitized,
    Tag::OffsetTime,
    Tag::OffsetTimeOriginal,
    Tag::OffsetTimeDigitized,
];

fn is_location(f: &Field) -> bool {
    f.tag.context() == Context::Gps
}

fn is_device(f: &Field) -> bool {
    // A maker note is the maker's own blob: serial numbers often sit in it.
    DEVICE_TAGS.contains(&f.tag) || f.tag == Tag::MakerNote || f.tag == Tag::ImageUniqueID
}

/// Whether the policy drops this field from a sized photo.
fn dropped(f: &Field, rules: &Rules) -> bool {
    (is_location(f) && !rules.keep_location) || (is_device(f) && !rules.keep_device)
}

/// Whether the policy keeps this field in a sized photo (the orientation is
/// applied to the pixels, so it is not among them).
fn kept(f: &Field, rules: &Rules) -> bool {
    f.ifd_num == In::PRIMARY
        && (TIME_TAGS.contains(&f.tag)
            || (is_location(f) && rules.keep_location)
            || (DEVICE_TAGS.contains(&f.tag) && rules.keep_device))
}

/// The EXIF a sized photo carries: the kept fields of `raw` (TIFF bytes),
/// little-endian; `None` when none is kept or `raw` cannot be read.
fn kept_exif(raw: &exif::Exif, rules: &Rules) -> Option<Vec<u8>> {
    let mut w = exif::experimental::Writer::new();
    let mut any = false;
    for f in raw.fields().filter(|f| kept(f, rules)) {
        w.push_field(f);
        any = true;
    }
    if !any {
        return None;
    }
    let mut out = Cursor::new(Vec::new());
    w.write(&mut out, true).ok()?;
    Some(out.into_inner())
}

/// The size a `w` × `h` picture takes with its longer side at most `edge`
/// (itself if already within), never 0.
pub(crate) fn fit(w: u32, h: u32, edge: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= edge || long == 0 {
        return (w, h);
    }
    let scale = |side: u32| ((u64::from(side) * u64::from(edge) + u64::from(long) / 2) / u64::from(long)).max(1) as u32;
    (scale(w), scale(h))
}

/// Sizes a photo by the county's rules. `bytes` are the whole file; a type
/// the bytes do not show as JPEG or PNG is kept as taken (the caller has
/// already refused what is no image).
pub(crate) fn size(bytes: &[u8], rules: &Rules) -> Result<Sized, Error> {
    let format = match fengqiao_domain::records::sniff_photo_type(bytes) {
        Some("image/jpeg") => ImageFormat::Jpeg,
        Some("image/png") => ImageFormat::Png,
        _ => return Ok(Sized::AsTaken),
    };
    if format == ImageFormat::Jpeg && !jpeg_scan_ends(bytes) {
        return Err(corrupt());
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // The decoded picture and the scaled one, with room to spare.
    limits.max_alloc = Some(MAX_PIXELS * 3 + 64 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_err)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(too_many_pixels());
    }
    let raw_exif = decoder.exif_metadata().map_err(decode_err)?;
    let orientation = raw_exif.as_deref().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    let xmp = decoder.xmp_metadata().ok().flatten().is_some();
    let had_exif = raw_exif.is_some();
    let exif = raw_exif.and_then(|raw| exif::Reader::new().read_raw(raw).ok());
    let drops = exif.as_ref().is_some_and(|e| e.fields().any(|f| dropped(f, rules)));
    // An EXIF block that cannot be read may hide anything: it is dropped whole.
    let unreadable_exif = had_exif && exif.is_none();
    // The whole picture is decoded even when it is kept: a damaged file is refused now.
    let picture = DynamicImage::from_decoder(decoder).map_err(decode_err)?;
    let (nw, nh) = fit(w, h, rules.long_edge);
    if (nw, nh) == (w, h) && !drops && !xmp && !unreadable_exif {
        return Ok(Sized::AsTaken);
    }
    let picture = match picture {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageLuma8(_) => picture,
        other => DynamicImage::ImageRgb8(other.into_rgb8()),
    };
    let mut small = if (nw, nh) == (w, h) { picture } else { picture.thumbnail_exact(nw, nh) };
    small.apply_orientation(orientation);
    let mut out = Vec::with_capacity(usize::try_from(u64::from(nw) * u64::from(nh) / 4).unwrap_or(0));
    let mut encoder = JpegEncoder::new_with_quality(&mut out, rules.quality.clamp(1, 100));
    if let Some(tiff) = exif.as_ref().and_then(|e| kept_exif(e, rules)) {
        image::ImageEncoder::set_exif_metadata(&mut encoder, tiff)
            .map_err(|e| Error::InvalidInput(format!("photo: cannot write its EXIF: {e}")))?;
    }
    encoder.encode_image(&small).map_err(|e| Error::InvalidInput(format!("photo: cannot encode it: {e}")))?;
    Ok(Sized::Jpeg(out))
}

/// Whether a JPEG's picture data ends with its end marker (`FF D9`): the
/// decoder fills a picture cut short with grey rather than failing, so a
/// file cut in transfer is found here. The segments before the first scan
/// are walked by their lengths (an embedded thumbnail's marker does not
/// count); data after the end marker (a motion photo's video) is allowed.
fn jpeg_scan_ends(bytes: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            // fill bytes before a marker
            at += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if marker == 0xDA {
            return bytes.get(at + 2 + len..).is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, 0xD9]));
        }
        at += 2 + len;
    }
    false
}

#[cfg(test)]
#[path = "photo_sizing_tests.rs"]
mod tests;
