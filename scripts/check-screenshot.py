#!/usr/bin/env python3
"""Checks that a screenshot is not blank. Standard library only.

usage: check-screenshot.py IMAGE [--png-out FILE] [--min-colours N] [--min-stddev X]
                                  [--min-lit FRACTION] [--expect-colour R,G,B [--expect-count N]]

IMAGE is a PNG (8-bit grey/RGB/RGBA, as the player writes) or an X window dump (`xwd -root`,
ZPixmap, 24/32 bits per pixel). --png-out writes the picture as PNG (to look at an XWD).
Prints the figures; exits 1 when the picture is blank: too few distinct colours, too little
variance in brightness, or too few pixels that are not black; or, with --expect-colour, when
fewer than --expect-count pixels have exactly that colour.
"""

import argparse
import struct
import sys
import zlib


def read_png(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    at, idat, ihdr = 8, [], None
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        at += 12 + length
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if ihdr is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = ihdr
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"PNG depth {depth} colour type {colour} interlace {interlace}: unsupported")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    prior = bytearray(stride)
    pixels = []
    for y in range(height):
        row_at = y * (stride + 1)
        kind, row = raw[row_at], bytearray(raw[row_at + 1 : row_at + 1 + stride])
        if len(row) != stride:
            raise ValueError("PNG data cut short")
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b = prior[i]
            c = prior[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + a) & 255
            elif kind == 2:
                row[i] = (row[i] + b) & 255
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 255
            elif kind != 0:
                raise ValueError(f"PNG filter {kind}")
        prior = row
        for x in range(width):
            p = row[x * channels : x * channels + channels]
            pixels.append((p[0], p[0], p[0]) if channels <= 2 else (p[0], p[1], p[2]))
    return width, height, pixels


def read_xwd(data):
    if len(data) < 100:
        raise ValueError("not an XWD file")
    h = struct.unpack(">25I", data[:100])
    header_size, version, fmt, depth, width, height = h[0:6]
    byte_order, bpp, bytes_per_line = h[7], h[11], h[12]
    masks, ncolours = h[14:17], h[19]
    if version != 7 or fmt != 2 or bpp not in (24, 32):
        raise ValueError(f"XWD version {version} format {fmt} {bpp} bpp: unsupported")
    at = header_size + ncolours * 12
    if len(data) < at + bytes_per_line * height:
        raise ValueError("XWD data cut short")
    step = bpp // 8
    endian = "little" if byte_order == 0 else "big"

    def channel(v, mask):
        shift = (mask & -mask).bit_length() - 1
        top = mask >> shift
        return ((v & mask) >> shift) * 255 // top if top else 0

    pixels = []
    for y in range(height):
        row = data[at + y * bytes_per_line : at + y * bytes_per_line + width * step]
        for x in range(width):
            v = int.from_bytes(row[x * step : x * step + step], endian)
            pixels.append(tuple(channel(v, m) for m in masks))
    return width, height, pixels


def write_png(path, width, height, pixels):
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for p in pixels[y * width : (y + 1) * width]:
            raw.extend(p)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(bytes(raw), 6)))
        f.write(chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("--png-out")
    ap.add_argument("--min-colours", type=int, default=32)
    ap.add_argument("--min-stddev", type=float, default=10.0)
    ap.add_argument("--min-lit", type=float, default=0.25)
    ap.add_argument("--expect-colour", help="R,G,B that at least --expect-count pixels must have")
    ap.add_argument("--expect-count", type=int, default=100)
    a = ap.parse_args()
    data = open(a.image, "rb").read()
    try:
        width, height, pixels = read_png(data) if data[:4] == b"\x89PNG" else read_xwd(data)
    except (ValueError, zlib.error, struct.error) as e:
        print(f"{a.image}: {e}")
        return 1
    if a.png_out:
        write_png(a.png_out, width, height, pixels)
    if not pixels:
        print(f"{a.image}: empty picture")
        return 1
    colours = len(set(pixels))
    lumas = [(299 * r + 587 * g + 114 * b) / 1000 for r, g, b in pixels]
    mean = sum(lumas) / len(lumas)
    stddev = (sum((v - mean) ** 2 for v in lumas) / len(lumas)) ** 0.5
    lit = sum(1 for r, g, b in pixels if r + g + b > 24) / len(pixels)
    verdict = colours >= a.min_colours and stddev >= a.min_stddev and lit >= a.min_lit
    print(
        f"{a.image}: {width}x{height}, {colours} colours (min {a.min_colours}), "
        f"brightness mean {mean:.1f} stddev {stddev:.1f} (min {a.min_stddev}), "
        f"{lit * 100:.1f}% not black (min {a.min_lit * 100:.0f}%): "
        f"{'not blank' if verdict else 'BLANK'}"
    )
    if a.expect_colour:
        want = tuple(int(v) for v in a.expect_colour.split(","))
        count = sum(1 for p in pixels if p == want)
        found = count >= a.expect_count
        print(
            f"{a.image}: {count} pixels of colour {a.expect_colour} (min {a.expect_count}): "
            f"{'found' if found else 'MISSING'}"
        )
        verdict = verdict and found
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
