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
//! Memory: the decoded picture (3 bytes a pixel, 1 for a grey one) plus the
//! scaled one; the scaling averages blocks of pixels with no floating-point
//! copy of the picture, and the turn happens after it, on the small picture.
//!
//! Each codec is used directly (ADR 0035): `zune-jpeg` and `png` decode,
//! `jpeg-encoder` encodes, `kamadak-exif` reads and writes the EXIF, and the
//! scaling and turning are in [`pixels`] (`image` would link ICC colour
//! management the phone library has no room for).

use std::io::Cursor;

use exif::{Context, Field, In, Tag};
use fengqiao_domain::policy::PhotoPolicy;
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

use crate::error::Error;

#[path = "photo_pixels.rs"]
mod pixels;
use pixels::Picture;

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

/// A photo decoded, with what its file carries besides the pixels.
struct Decoded {
    picture: Picture,
    /// The EXIF block (TIFF bytes), if the file has one.
    exif: Option<Vec<u8>>,
    /// Whether the file carries XMP (never kept: it may repeat the location).
    xmp: bool,
}

/// Refuses a picture with more pixels or a longer side than the phone sizes,
/// before any pixel is decoded.
fn check_pixels(w: u64, h: u64) -> Result<(), Error> {
    if w == 0 || h == 0 {
        return Err(corrupt());
    }
    if w > u64::from(MAX_SIDE) || h > u64::from(MAX_SIDE) || w * h > MAX_PIXELS {
        return Err(too_many_pixels());
    }
    Ok(())
}

/// Decodes a JPEG in full: grey stays grey, every other colour space
/// (YCbCr, CMYK, YCCK) becomes RGB.
fn decode_jpeg(bytes: &[u8]) -> Result<Decoded, Error> {
    if !jpeg_scan_ends(bytes) {
        return Err(corrupt());
    }
    // The sides are checked here, not by the decoder, so a long side is told as such.
    let options = DecoderOptions::default().set_strict_mode(false).set_max_width(usize::MAX).set_max_height(usize::MAX);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|_| corrupt())?;
    let (w, h) = decoder.dimensions().ok_or_else(corrupt)?;
    check_pixels(w as u64, h as u64)?;
    let grey = decoder.input_colorspace() == Some(ColorSpace::Luma);
    let out = if grey { ColorSpace::Luma } else { ColorSpace::RGB };
    decoder.set_options(options.jpeg_set_out_colorspace(out));
    let exif = decoder.exif().cloned();
    let xmp = decoder.xmp().is_some();
    let pixels = decoder.decode().map_err(|_| corrupt())?;
    let picture = Picture::new(w as u32, h as u32, if grey { 1 } else { 3 }, pixels).ok_or_else(corrupt)?;
    Ok(Decoded { picture, exif, xmp })
}

/// The keyword of the iTXt chunk that carries XMP in a PNG.
const PNG_XMP_KEY: &str = "XML:com.adobe.xmp";

/// Decodes a PNG in full to 8 bits a channel (palettes expanded, 16 bits
/// cut); transparency is dropped (a JPEG has none).
fn decode_png(bytes: &[u8]) -> Result<Decoded, Error> {
    let png_err = |e: png::DecodingError| match e {
        png::DecodingError::LimitsExceeded => too_many_pixels(),
        _ => corrupt(),
    };
    // The decoded picture with room to spare (it may have 4 channels before the alpha is dropped).
    let limit = usize::try_from(MAX_PIXELS * 4 + 64 * 1024 * 1024).unwrap_or(usize::MAX);
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: limit });
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(png_err)?;
    let info = reader.info();
    let (w, h) = (info.width, info.height);
    check_pixels(u64::from(w), u64::from(h))?;
    let exif = info.exif_metadata.as_ref().map(|e| e.to_vec());
    let xmp = info.utf8_text.iter().any(|t| t.keyword.contains(PNG_XMP_KEY));
    let size = reader.output_buffer_size().ok_or_else(too_many_pixels)?;
    let mut pixels = vec![0u8; size];
    let frame = reader.next_frame(&mut pixels).map_err(png_err)?;
    pixels.truncate(frame.buffer_size());
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => {
            pixels::drop_alpha(&mut pixels, 2);
            1
        }
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => {
            pixels::drop_alpha(&mut pixels, 4);
            3
        }
        // Palettes are expanded by the transformations asked for above.
        png::ColorType::Indexed => return Err(corrupt()),
    };
    let picture = Picture::new(w, h, channels, pixels).ok_or_else(corrupt)?;
    Ok(Decoded { picture, exif, xmp })
}

/// Sizes a photo by the county's rules. `bytes` are the whole file; a type
/// the bytes do not show as JPEG or PNG is kept as taken (the caller has
/// already refused what is no image).
pub(crate) fn size(bytes: &[u8], rules: &Rules) -> Result<Sized, Error> {
    // The whole picture is decoded even when it is kept: a damaged file is refused now.
    let decoded = match fengqiao_domain::records::sniff_photo_type(bytes) {
        Some("image/jpeg") => decode_jpeg(bytes)?,
        Some("image/png") => decode_png(bytes)?,
        _ => return Ok(Sized::AsTaken),
    };
    let Decoded { picture, exif: raw_exif, xmp } = decoded;
    let orientation = raw_exif.as_deref().map_or(1, pixels::orientation_of);
    let had_exif = raw_exif.is_some();
    let exif = raw_exif.and_then(|raw| exif::Reader::new().read_raw(raw).ok());
    let drops = exif.as_ref().is_some_and(|e| e.fields().any(|f| dropped(f, rules)));
    // An EXIF block that cannot be read may hide anything: it is dropped whole.
    let unreadable_exif = had_exif && exif.is_none();
    let (w, h) = (picture.width(), picture.height());
    let (nw, nh) = fit(w, h, rules.long_edge);
    if (nw, nh) == (w, h) && !drops && !xmp && !unreadable_exif {
        return Ok(Sized::AsTaken);
    }
    let small = if (nw, nh) == (w, h) { picture } else { picture.shrink(nw, nh) };
    let small = small.orient(orientation);
    let too_big =
        || Error::InvalidInput(format!("photo: {} × {} is too large for a JPEG", small.width(), small.height()));
    let (ew, eh) =
        (u16::try_from(small.width()).map_err(|_| too_big())?, u16::try_from(small.height()).map_err(|_| too_big())?);
    let mut out = Vec::with_capacity(usize::try_from(u64::from(nw) * u64::from(nh) / 4).unwrap_or(0));
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, rules.quality.clamp(1, 100));
    if let Some(tiff) = exif.as_ref().and_then(|e| kept_exif(e, rules)) {
        encoder
            .add_exif_metadata(&tiff)
            .map_err(|e| Error::InvalidInput(format!("photo: cannot write its EXIF: {e}")))?;
    }
    let colour = if small.channels() == 1 { jpeg_encoder::ColorType::Luma } else { jpeg_encoder::ColorType::Rgb };
    encoder
        .encode(small.pixels(), ew, eh, colour)
        .map_err(|e| Error::InvalidInput(format!("photo: cannot encode it: {e}")))?;
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
