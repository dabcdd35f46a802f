//! The pixel work checked against exact sums and, for the turns, against
//! the `image` crate's own (an independent implementation).

use super::*;
use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};

/// A picture whose every pixel differs: (x, y, x ^ y), so a misplaced pixel shows.
fn numbered(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, (x ^ y) as u8]))
}

fn picture_of(img: &RgbImage) -> Picture {
    Picture::new(img.width(), img.height(), 3, img.as_raw().clone()).expect("a picture")
}

#[test]
fn a_picture_must_hold_exactly_its_pixels() {
    assert!(Picture::new(2, 2, 3, vec![0; 12]).is_some());
    assert!(Picture::new(2, 2, 3, vec![0; 11]).is_none(), "too few bytes");
    assert!(Picture::new(2, 2, 1, vec![0; 5]).is_none(), "too many bytes");
    assert!(Picture::new(2, 2, 4, vec![0; 16]).is_none(), "only grey or RGB");
    assert!(Picture::new(0, 2, 1, vec![]).is_none(), "no empty picture");
}

#[test]
fn shrinking_averages_the_block_each_new_pixel_covers() {
    // 4 × 2 grey → 2 × 1: each new pixel is the mean of a 2 × 2 block.
    let p = Picture::new(4, 2, 1, vec![0, 10, 100, 200, 20, 30, 50, 51]).expect("picture");
    let s = p.shrink(2, 1);
    assert_eq!((s.width(), s.height(), s.channels()), (2, 1, 1));
    assert_eq!(s.pixels(), &[15, 100], "(0+10+20+30)/4 and (100+200+50+51)/4 rounded");
    // 3 × 1 RGB → 2 × 1: blocks of 1 and 2 columns (3 = 1 + 2), channels apart.
    let p = Picture::new(3, 1, 3, vec![9, 0, 255, 10, 20, 30, 11, 21, 31]).expect("picture");
    let s = p.shrink(2, 1);
    assert_eq!(s.pixels(), &[9, 0, 255, 11, 21, 31]);
    // A flat picture stays flat at any size, the sides as asked.
    let flat = Picture::new(1000, 750, 3, [40u8, 120, 200].repeat(1000 * 750)).expect("picture");
    let s = flat.shrink(333, 250);
    assert_eq!((s.width(), s.height()), (333, 250));
    assert!(s.pixels().chunks_exact(3).all(|px| px == [40, 120, 200]));
    // Never grows, never reaches 0.
    let s = flat.shrink(5000, 0);
    assert_eq!((s.width(), s.height()), (1000, 1));
}

#[test]
fn every_orientation_turns_as_the_image_crate_does() {
    let img = numbered(7, 4);
    for (exif, theirs) in [
        (1, Orientation::NoTransforms),
        (2, Orientation::FlipHorizontal),
        (3, Orientation::Rotate180),
        (4, Orientation::FlipVertical),
        (5, Orientation::Rotate90FlipH),
        (6, Orientation::Rotate90),
        (7, Orientation::Rotate270FlipH),
        (8, Orientation::Rotate270),
    ] {
        assert_eq!(Orientation::from_exif(exif), Some(theirs), "the table matches EXIF's numbering");
        let mut expected = DynamicImage::ImageRgb8(img.clone());
        expected.apply_orientation(theirs);
        let expected = expected.to_rgb8();
        let ours = picture_of(&img).orient(u16::from(exif));
        assert_eq!((ours.width(), ours.height()), expected.dimensions(), "orientation {exif}");
        assert_eq!(ours.pixels(), expected.as_raw().as_slice(), "orientation {exif}");
    }
    assert_eq!(picture_of(&img).orient(9), picture_of(&img), "an unknown value leaves it");
}

#[test]
fn alpha_is_dropped_in_place() {
    let mut rgba = vec![1, 2, 3, 255, 4, 5, 6, 0, 7, 8, 9, 128];
    drop_alpha(&mut rgba, 4);
    assert_eq!(rgba, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let mut grey_alpha = vec![10, 255, 20, 0];
    drop_alpha(&mut grey_alpha, 2);
    assert_eq!(grey_alpha, [10, 20]);
}

/// A TIFF block with one directory holding `entries` (tag, type, count, value).
fn tiff(little: bool, entries: &[(u16, u16, u32, u16)]) -> Vec<u8> {
    let w16 = |v: u16| if little { v.to_le_bytes() } else { v.to_be_bytes() };
    let w32 = |v: u32| if little { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut out = if little { b"II\x2A\0".to_vec() } else { b"MM\0\x2A".to_vec() };
    out.extend(w32(8));
    out.extend(w16(entries.len() as u16));
    for &(tag, ty, count, value) in entries {
        out.extend(w16(tag));
        out.extend(w16(ty));
        out.extend(w32(count));
        out.extend(w16(value));
        out.extend([0, 0]);
    }
    out.extend(w32(0));
    out
}

#[test]
fn the_orientation_is_read_from_either_byte_order_and_defaults_to_as_stored() {
    for little in [true, false] {
        let t = tiff(little, &[(0x010F, 2, 1, 0), (0x0112, 3, 1, 6)]);
        assert_eq!(orientation_of(&t), 6, "little-endian: {little}");
        assert_eq!(orientation_of(&tiff(little, &[(0x0112, 3, 1, 8)])), 8);
        assert_eq!(orientation_of(&tiff(little, &[(0x0112, 3, 1, 0)])), 1, "0 is no orientation");
        assert_eq!(orientation_of(&tiff(little, &[(0x0112, 3, 1, 9)])), 1, "9 is no orientation");
        assert_eq!(orientation_of(&tiff(little, &[(0x0112, 4, 1, 6)])), 1, "not a SHORT");
        assert_eq!(orientation_of(&tiff(little, &[])), 1, "none");
    }
    let t = tiff(true, &[(0x0112, 3, 1, 6)]);
    assert_eq!(orientation_of(&t[..t.len() - 10]), 1, "cut short");
    assert_eq!(orientation_of(b"XX\x2A\0\x08\0\0\0"), 1, "not TIFF");
    assert_eq!(orientation_of(b"II\x2A\0\xFF\xFF\xFF\xFF"), 1, "directory out of the block");
    assert_eq!(orientation_of(&[]), 1);
}
