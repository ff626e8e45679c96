//! The moving test pattern drawn into I420 planes for the H.264 source.
//!
//! Top two thirds: eight colour bars scrolling left. Bottom third: a grey ramp scrolling right.
//! On top: an orange box bouncing around the frame and the frame number in a black block at the
//! top left, so every frame differs and a snapshot shows which frame it is.

/// 5x7 glyphs for '0'..='9', one byte per row, bit 4 = leftmost pixel.
const DIGITS: [[u8; 7]; 10] = [
    [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
    [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
    [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
    [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
    [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
    [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
    [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
    [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
    [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
    [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
];

/// BT.601 limited-range YUV of an RGB colour.
fn yuv(r: i32, g: i32, b: i32) -> [u8; 3] {
    let y = 16 + ((66 * r + 129 * g + 25 * b + 128) >> 8);
    let u = 128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8);
    let v = 128 + ((112 * r - 94 * g - 18 * b + 128) >> 8);
    let c = |x: i32| x.clamp(0, 255) as u8;
    [c(y), c(u), c(v)]
}

/// Triangle wave in `0..=span` for a position advancing `pos` steps.
fn bounce(pos: usize, span: usize) -> usize {
    if span == 0 {
        return 0;
    }
    let p = pos % (2 * span);
    if p <= span {
        p
    } else {
        2 * span - p
    }
}

/// An I420 picture buffer that redraws the pattern for each frame index.
pub(crate) struct Pattern {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) y: Vec<u8>,
    pub(crate) u: Vec<u8>,
    pub(crate) v: Vec<u8>,
    bars: [[u8; 3]; 8],
}

impl Pattern {
    /// `width` and `height` must be even and nonzero (checked by the caller).
    pub(crate) fn new(width: usize, height: usize) -> Self {
        let cw = width / 2;
        let ch = height / 2;
        let bars = [
            yuv(191, 191, 191),
            yuv(191, 191, 0),
            yuv(0, 191, 191),
            yuv(0, 191, 0),
            yuv(191, 0, 191),
            yuv(191, 0, 0),
            yuv(0, 0, 191),
            yuv(40, 40, 40),
        ];
        Self {
            width,
            height,
            y: vec![16; width * height],
            u: vec![128; cw * ch],
            v: vec![128; cw * ch],
            bars,
        }
    }

    /// Draws frame `index`.
    pub(crate) fn draw(&mut self, index: u64) {
        let (w, h) = (self.width, self.height);
        let (cw, ch) = (w / 2, h / 2);
        let step = usize::try_from(index % (1 << 40)).unwrap_or(0);

        // Colour bars, scrolling left by 4 px per frame, over the top two thirds (even rows).
        let split = (h * 2 / 3) & !1;
        let shift = (step * 4) % w;
        let mut row_y = vec![0u8; w];
        let mut row_u = vec![0u8; cw];
        let mut row_v = vec![0u8; cw];
        for (x, out) in row_y.iter_mut().enumerate() {
            let bar = ((x + shift) % w) * 8 / w;
            *out = self.bars[bar][0];
        }
        for x in 0..cw {
            let bar = ((2 * x + shift) % w) * 8 / w;
            row_u[x] = self.bars[bar][1];
            row_v[x] = self.bars[bar][2];
        }
        for r in 0..split {
            self.y[r * w..(r + 1) * w].copy_from_slice(&row_y);
        }
        for r in 0..split / 2 {
            self.u[r * cw..(r + 1) * cw].copy_from_slice(&row_u);
            self.v[r * cw..(r + 1) * cw].copy_from_slice(&row_v);
        }

        // Grey ramp scrolling right by 6 px per frame over the bottom third.
        let shift = (w - (step * 6) % w) % w;
        for (x, out) in row_y.iter_mut().enumerate() {
            *out = (16 + ((x + shift) % w) * 219 / w) as u8;
        }
        for r in split..h {
            self.y[r * w..(r + 1) * w].copy_from_slice(&row_y);
        }
        for r in split / 2..ch {
            self.u[r * cw..(r + 1) * cw].fill(128);
            self.v[r * cw..(r + 1) * cw].fill(128);
        }

        // An orange box bouncing around the whole frame.
        let side = ((h / 6).max(2)) & !1;
        let side = side.min(w & !1).min(h & !1);
        let bx = bounce(step * 7, w - side) & !1;
        let by = bounce(step * 5, h - side) & !1;
        self.fill_rect(bx, by, side, side, yuv(255, 140, 0));

        // The frame number, white on a black block at the top left.
        let text = index.to_string();
        let scale = (h / 90).max(1);
        let glyph_w = 6 * scale;
        let block_w = (text.len() * glyph_w + 2 * scale + 1) & !1;
        let block_h = (9 * scale + 1) & !1;
        if block_w <= w && block_h <= h {
            self.fill_rect(0, 0, block_w, block_h, yuv(0, 0, 0));
            for (i, ch) in text.bytes().enumerate() {
                let glyph = &DIGITS[usize::from(ch - b'0')];
                let x0 = scale + i * glyph_w;
                for (gy, bits) in glyph.iter().enumerate() {
                    for gx in 0..5 {
                        if bits & (0x10 >> gx) != 0 {
                            self.fill_luma(x0 + gx * scale, scale + gy * scale, scale, scale, 235);
                        }
                    }
                }
            }
        }
    }

    /// Fills a rectangle (even position and size) with a colour in all three planes.
    fn fill_rect(&mut self, x: usize, y: usize, rw: usize, rh: usize, c: [u8; 3]) {
        self.fill_luma(x, y, rw, rh, c[0]);
        let cw = self.width / 2;
        let (cx, cy, crw, crh) = (x / 2, y / 2, rw / 2, rh / 2);
        for r in cy..(cy + crh).min(self.height / 2) {
            let end = (cx + crw).min(cw);
            if cx < end {
                self.u[r * cw + cx..r * cw + end].fill(c[1]);
                self.v[r * cw + cx..r * cw + end].fill(c[2]);
            }
        }
    }

    /// Fills a rectangle of the luma plane, clipped to the picture.
    fn fill_luma(&mut self, x: usize, y: usize, rw: usize, rh: usize, luma: u8) {
        let w = self.width;
        for r in y..(y + rh).min(self.height) {
            let end = (x + rw).min(w);
            if x < end {
                self.y[r * w + x..r * w + end].fill(luma);
            }
        }
    }
}

/// The luma plane (width x height bytes) of test-pattern frame `index`, as
/// [`crate::media::VideoSource`] draws it before encoding: the reference
/// a decoded picture is compared against (PSNR).
///
/// `width` and `height` must be even and nonzero; `None` otherwise.
pub fn pattern_luma(width: usize, height: usize, index: u64) -> Option<Vec<u8>> {
    if width == 0 || height == 0 || !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return None;
    }
    let mut p = Pattern::new(width, height);
    p.draw(index);
    Some(p.y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_differ_and_small_sizes_do_not_panic() {
        let mut p = Pattern::new(64, 48);
        p.draw(0);
        let first = p.y.clone();
        p.draw(1);
        assert_ne!(first, p.y);
        for (w, h) in [(2, 2), (4, 2), (2, 4), (16, 16), (1920, 1080)] {
            let mut p = Pattern::new(w, h);
            for i in [0, 1, 99, 123_456_789, u64::MAX] {
                p.draw(i);
            }
        }
    }
}
