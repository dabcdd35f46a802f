//! Sizing at capture: the long edge, the orientation, the EXIF kept and
//! dropped, a photo kept byte for byte, and damaged files refused.

use super::*;
use exif::{Rational, Value};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage};

const RULES: Rules = Rules { long_edge: 1600, quality: 80, keep_location: false, keep_device: false };

/// A `w` × `h` picture whose top-left quarter is red, the rest blue (so a
/// turn shows where that quarter went).
fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| if x < w / 2 && y < h / 2 { Rgb([230, 20, 20]) } else { Rgb([20, 20, 230]) })
}

/// EXIF as a phone camera writes it: orientation, capture time, maker and
/// model, a serial number and a GPS position.
fn camera_exif(orientation: u16) -> Vec<u8> {
    let fields = [
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![orientation]) },
        Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"Xiaomi".to_vec()]) },
        Field { tag: Tag::Model, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"Redmi Note 12".to_vec()]) },
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"2026:12:07 09:30:00".to_vec()]),
        },
        Field { tag: Tag::BodySerialNumber, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"SN-1234567".to_vec()]) },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![
                Rational { num: 43, denom: 1 },
                Rational { num: 38, denom: 1 },
                Rational { num: 0, denom: 1 },
            ]),
        },
    ];
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut out = Cursor::new(Vec::new());
    w.write(&mut out, false).expect("write the EXIF");
    out.into_inner()
}

fn jpeg(img: &RgbImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(&mut out, 92);
    if let Some(e) = exif {
        image::ImageEncoder::set_exif_metadata(&mut enc, e).expect("exif");
    }
    enc.encode_image(img).expect("encode");
    out
}

fn sized(bytes: &[u8], rules: &Rules) -> Vec<u8> {
    match size(bytes, rules).expect("sized") {
        Sized::Jpeg(b) => b,
        Sized::AsTaken => panic!("expected a new JPEG"),
    }
}

/// The EXIF fields of a JPEG, by tag (empty if it has none).
fn tags_of(bytes: &[u8]) -> Vec<Tag> {
    match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        Ok(e) => e.fields().map(|f| f.tag).collect(),
        Err(_) => Vec::new(),
    }
}

fn red(p: Rgb<u8>) -> bool {
    p.0[0] > 150 && p.0[2] < 100
}

#[test]
fn a_large_photo_is_scaled_to_the_long_edge_turned_upright_and_loses_location_and_device() {
    // 3,200 × 2,400 stored sideways: orientation 6 (turn 90° clockwise to view).
    let src = jpeg(&picture(3200, 2400), Some(camera_exif(6)));
    assert!(tags_of(&src).contains(&Tag::GPSLatitude), "the source has a location");
    let out = sized(&src, &RULES);
    let img = image::load_from_memory(&out).expect("a JPEG");
    assert_eq!(img.dimensions(), (1200, 1600), "upright, long edge 1,600");
    let img = img.to_rgb8();
    // Turned clockwise, the top-left quarter is now the top-right one.
    assert!(red(*img.get_pixel(1100, 100)), "top right is red: {:?}", img.get_pixel(1100, 100));
    assert!(!red(*img.get_pixel(100, 100)), "top left is not: {:?}", img.get_pixel(100, 100));
    assert!(!red(*img.get_pixel(1100, 1500)));
    let tags = tags_of(&out);
    assert!(tags.contains(&Tag::DateTimeOriginal), "the capture time stays: {tags:?}");
    for gone in [Tag::GPSLatitude, Tag::GPSLatitudeRef, Tag::Make, Tag::Model, Tag::BodySerialNumber, Tag::Orientation]
    {
        assert!(!tags.contains(&gone), "{gone} dropped: {tags:?}");
    }
    assert!(!out.windows(10).any(|w| w == b"SN-1234567"), "no serial number anywhere in the file");
    assert!(out.len() < src.len() / 2, "{} bytes from {}", out.len(), src.len());
}

#[test]
fn policy_may_keep_location_and_device_and_sets_edge_and_quality() {
    let src = jpeg(&picture(2400, 1800), Some(camera_exif(1)));
    let keep = Rules { long_edge: 1000, quality: 60, keep_location: true, keep_device: true };
    let out = sized(&src, &keep);
    assert_eq!(image::load_from_memory(&out).expect("jpeg").dimensions(), (1000, 750));
    let tags = tags_of(&out);
    for kept in [Tag::GPSLatitude, Tag::GPSLatitudeRef, Tag::Make, Tag::Model, Tag::BodySerialNumber] {
        assert!(tags.contains(&kept), "{kept} kept: {tags:?}");
    }
    let low = sized(&src, &Rules { quality: 30, ..keep });
    assert!(low.len() < out.len(), "a lower quality gives a smaller file: {} vs {}", low.len(), out.len());
}

#[test]
fn a_photo_within_the_edge_with_nothing_to_drop_is_kept_byte_for_byte() {
    let plain = jpeg(&picture(800, 600), None);
    assert_eq!(size(&plain, &RULES).expect("size"), Sized::AsTaken);
    // orientation and time only: nothing the policy drops, the orientation stays in the file
    let mut w = exif::experimental::Writer::new();
    let o = Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![6]) };
    w.push_field(&o);
    let mut e = Cursor::new(Vec::new());
    w.write(&mut e, true).expect("exif");
    let turned = jpeg(&picture(800, 600), Some(e.into_inner()));
    assert_eq!(size(&turned, &RULES).expect("size"), Sized::AsTaken);
    // the same size with a location: re-encoded, same pixels' size, location gone
    let located = jpeg(&picture(800, 600), Some(camera_exif(1)));
    let out = sized(&located, &RULES);
    assert_eq!(image::load_from_memory(&out).expect("jpeg").dimensions(), (800, 600));
    assert!(!tags_of(&out).contains(&Tag::GPSLatitude));
    // unless the policy keeps location and device
    let keep = Rules { keep_location: true, keep_device: true, ..RULES };
    assert_eq!(size(&located, &keep).expect("size"), Sized::AsTaken);
}

#[test]
fn a_large_png_becomes_a_jpeg_and_other_types_are_kept() {
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(picture(2000, 1000)).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).expect("png");
    let out = sized(&png, &RULES);
    assert_eq!(fengqiao_domain::records::sniff_photo_type(&out), Some("image/jpeg"));
    assert_eq!(image::load_from_memory(&out).expect("jpeg").dimensions(), (1600, 800));
    let mut webp = b"RIFF\0\0\0\0WEBPVP8 ".to_vec();
    webp.extend([0u8; 100]);
    assert_eq!(size(&webp, &RULES).expect("webp"), Sized::AsTaken, "not decoded on the phone: kept");
}

#[test]
fn a_damaged_photo_is_refused_with_a_stable_reason() {
    let good = jpeg(&picture(640, 480), None);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("the JPEG marker and noise", {
            let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
            b.extend((0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 7) as u8));
            b
        }),
        ("cut inside its header", good[..good.len().min(300)].to_vec()),
        ("cut in half", good[..good.len() / 2].to_vec()),
        ("a PNG signature and nothing else", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-rest".to_vec()),
    ];
    for (what, bytes) in cases {
        match size(&bytes, &RULES) {
            Err(Error::BadInput { reason, message }) => {
                assert_eq!(reason, CORRUPT, "{what}");
                assert!(message.contains("损坏"), "{what}: {message}");
            }
            other => panic!("{what}: expected photo_corrupt, got {other:?}"),
        }
    }
}

#[test]
fn a_photo_with_too_many_pixels_is_refused_before_it_is_decoded() {
    let mut bytes = jpeg(&picture(64, 48), None);
    // Rewrite the frame header's height and width to 12,000 × 12,000 (144 MP).
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline frame");
    bytes[sof + 5..sof + 9].copy_from_slice(&[0x2E, 0xE0, 0x2E, 0xE0]);
    match size(&bytes, &RULES) {
        Err(Error::BadInput { reason, .. }) => assert_eq!(reason, TOO_MANY_PIXELS),
        other => panic!("expected photo_too_many_pixels, got {other:?}"),
    }
}

#[test]
fn fit_keeps_the_ratio_and_never_grows() {
    assert_eq!(fit(4000, 3000, 1600), (1600, 1200));
    assert_eq!(fit(3000, 4000, 1600), (1200, 1600));
    assert_eq!(fit(1600, 900, 1600), (1600, 900));
    assert_eq!(fit(800, 600, 1600), (800, 600));
    assert_eq!(fit(100_000, 10, 1600), (1600, 1));
}

/// A PNG of any of `image`'s colour types.
fn png_of(img: DynamicImage) -> Vec<u8> {
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).expect("png");
    png
}

#[test]
fn grey_transparent_and_16_bit_pictures_are_sized_with_their_colours() {
    let grey = image::GrayImage::from_fn(2000, 1000, |x, _| image::Luma([if x < 1000 { 30 } else { 220 }]));
    let rgba = image::RgbaImage::from_fn(2000, 1000, |x, _| image::Rgba([200, 40, 40, if x < 1000 { 0 } else { 255 }]));
    let deep = image::ImageBuffer::<Rgb<u16>, Vec<u16>>::from_pixel(2000, 1000, Rgb([40_000, 10_000, 60_000]));
    let grey_jpeg = {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90).encode_image(&grey).expect("grey jpeg");
        out
    };
    let cases = [
        ("grey PNG", png_of(DynamicImage::ImageLuma8(grey.clone())), [30, 30, 30]),
        (
            "grey and alpha PNG",
            png_of(DynamicImage::ImageLumaA8(DynamicImage::ImageLuma8(grey).to_luma_alpha8())),
            [30, 30, 30],
        ),
        ("RGBA PNG (alpha dropped)", png_of(DynamicImage::ImageRgba8(rgba)), [200, 40, 40]),
        ("16-bit PNG", png_of(DynamicImage::ImageRgb16(deep)), [156, 39, 234]),
        ("grey JPEG", grey_jpeg, [30, 30, 30]),
    ];
    for (what, bytes, left) in cases {
        let out = sized(&bytes, &RULES);
        let img = image::load_from_memory(&out).expect("a JPEG").to_rgb8();
        assert_eq!(img.dimensions(), (1600, 800), "{what}");
        let px = img.get_pixel(100, 400).0;
        assert!(px.iter().zip(left).all(|(a, b)| a.abs_diff(b) <= 6), "{what}: {px:?} vs {left:?}");
    }
}

#[test]
fn xmp_makes_a_small_photo_re_encoded_without_it() {
    let plain = jpeg(&picture(800, 600), None);
    // An APP1 XMP segment right after the start marker.
    let body = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>43,38N</exif:GPSLatitude></x:xmpmeta>";
    let mut with_xmp = plain[..2].to_vec();
    with_xmp.extend([0xFF, 0xE1]);
    with_xmp.extend(u16::try_from(body.len() + 2).expect("short").to_be_bytes());
    with_xmp.extend(body);
    with_xmp.extend(&plain[2..]);
    let out = sized(&with_xmp, &RULES);
    assert!(!out.windows(8).any(|w| w == b"xmpmeta>"), "the XMP is gone");
    assert_eq!(image::load_from_memory(&out).expect("jpeg").dimensions(), (800, 600));
}
