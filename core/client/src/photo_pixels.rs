//! The pixel work of sizing a photo (ADR 0035): a decoded picture, scaled
//! down by averaging blocks of pixels, turned upright by its EXIF orientation,
//! and the orientation read from an EXIF block.

/// A decoded picture: rows of pixels, 1 (grey) or 3 (RGB) bytes each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Picture {
    width: u32,
    height: u32,
    channels: usize,
    pixels: Vec<u8>,
}

impl Picture {
    /// A picture of `width` × `height` pixels of `channels` bytes, `None`
    /// unless `pixels` holds exactly that many bytes.
    pub(crate) fn new(width: u32, height: u32, channels: usize, pixels: Vec<u8>) -> Option<Picture> {
        let len = (width as usize).checked_mul(height as usize)?.checked_mul(channels)?;
        (matches!(channels, 1 | 3) && width > 0 && height > 0 && pixels.len() == len).then_some(Picture {
            width,
            height,
            channels,
            pixels,
        })
    }

    /// Width in pixels.
    pub(crate) fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub(crate) fn height(&self) -> u32 {
        self.height
    }

    /// Bytes a pixel: 1 grey, 3 RGB.
    pub(crate) fn channels(&self) -> usize {
        self.channels
    }

    /// The pixels, row after row.
    pub(crate) fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The picture scaled down to `nw` × `nh` (each at most the picture's own
    /// side, at least 1): each new pixel is the rounded mean of the block of
    /// old pixels it covers (the blocks tile the picture), summed in integers
    /// one row of new pixels at a time.
    pub(crate) fn shrink(&self, nw: u32, nh: u32) -> Picture {
        let (w, h, ch) = (self.width as usize, self.height as usize, self.channels);
        let (nw, nh) = ((nw as usize).clamp(1, w), (nh as usize).clamp(1, h));
        // New column `i` covers old columns xs[i]..xs[i + 1] (never empty: nw ≤ w).
        let xs: Vec<usize> = (0..=nw).map(|i| i * w / nw).collect();
        let mut out = Vec::with_capacity(nw * nh * ch);
        let mut sums = vec![0u64; nw * ch];
        for oy in 0..nh {
            let (y0, y1) = (oy * h / nh, (oy + 1) * h / nh);
            sums.fill(0);
            for row in self.pixels[y0 * w * ch..y1 * w * ch].chunks_exact(w * ch) {
                for (ox, sum) in sums.chunks_exact_mut(ch).enumerate() {
                    for px in row[xs[ox] * ch..xs[ox + 1] * ch].chunks_exact(ch) {
                        for (s, &v) in sum.iter_mut().zip(px) {
                            *s += u64::from(v);
                        }
                    }
                }
            }
            for (ox, sum) in sums.chunks_exact(ch).enumerate() {
                let n = ((xs[ox + 1] - xs[ox]) * (y1 - y0)) as u64;
                out.extend(sum.iter().map(|s| ((s + n / 2) / n) as u8));
            }
        }
        Picture { width: nw as u32, height: nh as u32, channels: ch, pixels: out }
    }

    /// The picture as it is meant to be seen, by its EXIF orientation
    /// (1–8; any other value leaves it as it is): 2 mirrored, 3 turned half
    /// round, 4 upside-down mirror, 5 transposed, 6 turned a quarter
    /// clockwise, 7 transversed, 8 turned a quarter anticlockwise.
    pub(crate) fn orient(self, orientation: u16) -> Picture {
        if !(2..=8).contains(&orientation) {
            return self;
        }
        let (w, h, ch) = (self.width as usize, self.height as usize, self.channels);
        let (ow, oh) = if orientation >= 5 { (h, w) } else { (w, h) };
        let mut out = vec![0u8; self.pixels.len()];
        for (y, row) in out.chunks_exact_mut(ow * ch).enumerate() {
            for (x, px) in row.chunks_exact_mut(ch).enumerate() {
                let (sx, sy) = match orientation {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };
                let at = (sy * w + sx) * ch;
                px.copy_from_slice(&self.pixels[at..at + ch]);
            }
        }
        Picture { width: ow as u32, height: oh as u32, channels: ch, pixels: out }
    }
}

/// Drops the last byte (alpha) of each `from`-byte pixel, in place.
pub(crate) fn drop_alpha(pixels: &mut Vec<u8>, from: usize) {
    let to = from - 1;
    let n = pixels.len() / from;
    for i in 0..n {
        // Moves bytes towards the front only: what is read is never overwritten first.
        pixels.copy_within(i * from..i * from + to, i * to);
    }
    pixels.truncate(n * to);
}

/// The orientation (EXIF tag 0x0112, 1–8) of an EXIF block (TIFF bytes),
/// read from its first directory; 1 (as stored) when it has none or the
/// block cannot be read.
pub(crate) fn orientation_of(tiff: &[u8]) -> u16 {
    let little = match tiff.get(..4) {
        Some([0x49, 0x49, 42, 0]) => true,
        Some([0x4D, 0x4D, 0, 42]) => false,
        _ => return 1,
    };
    let u16_at = |at: usize| {
        tiff.get(at..at + 2).map(|b| {
            if little {
                u16::from_le_bytes([b[0], b[1]])
            } else {
                u16::from_be_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |at: usize| {
        tiff.get(at..at + 4).map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            if little {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        })
    };
    let Some(dir) = u32_at(4).map(|d| d as usize) else { return 1 };
    let Some(entries) = u16_at(dir) else { return 1 };
    for i in 0..usize::from(entries) {
        let at = dir + 2 + 12 * i;
        // tag, type SHORT (3), count 1, value in the first two bytes of the field
        if u16_at(at) == Some(0x0112) && u16_at(at + 2) == Some(3) && u32_at(at + 4) == Some(1) {
            return u16_at(at + 8).filter(|o| (1..=8).contains(o)).unwrap_or(1);
        }
    }
    1
}

#[cfg(test)]
#[path = "photo_pixels_tests.rs"]
mod tests;
