"""Screendumps compared with the app's own renders, without OCR.

Every picture (a QEMU screendump of the guest's scanout, or a PNG from `mitid-flex-tv render`)
is reduced to a small signature: the picture scaled to SIG_W x SIG_H with a box filter
(ImageMagick), 8-bit RGB. Two signatures are compared by the mean absolute difference of
their bytes (0 = identical, 255 = black against white). A screen scaled correctly to any
16:9 mode has nearly the signature of the 1920x1080 render; a screen drawn at 1:1 on a
3840x2160 mode fills only the top-left quarter, and one cut off at 1280x720 loses its right
and bottom parts, so both end up far from it.
"""

import hashlib
import subprocess

SIG_W, SIG_H = 192, 108


def ppm_header(path):
    """(width, height, offset of the pixel data) of a binary PPM (P6) as QEMU writes it."""
    with open(path, "rb") as f:
        head = f.read(64)
    fields, pos = [], 0
    while len(fields) < 4:
        while head[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not head[pos:pos + 1].isspace():
            pos += 1
        fields.append(head[start:pos])
    if fields[0] != b"P6":
        raise ValueError(f"{path}: not a binary PPM")
    return int(fields[1]), int(fields[2]), pos + 1


def size(path):
    w, h, _ = ppm_header(path)
    return w, h


def digest(path):
    """Changes when any pixel changes."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def signature(path):
    out = subprocess.run(
        ["convert", path, "-alpha", "off", "-filter", "Box", "-resize", f"{SIG_W}x{SIG_H}!",
         "-depth", "8", "rgb:-"],
        capture_output=True, check=True).stdout
    if len(out) != SIG_W * SIG_H * 3:
        raise ValueError(f"{path}: signature has {len(out)} bytes")
    return out


def distance(a, b):
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


def spread(sig):
    """Largest minus smallest byte of a signature: 0 for a uniform (e.g. black) picture."""
    return max(sig) - min(sig)


_BRIGHT = bytes(1 if b > 48 else 0 for b in range(256))
_BLACK = bytes(1 if b < 8 else 0 for b in range(256))


def shows_console(path):
    """True when the dump is the kernel's text console with something on it: a black
    screen (the app's background is never black) with some bright text or a cursor.
    An all-black screen is not the console showing anything."""
    _, _, offset = ppm_header(path)
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    black = data.translate(_BLACK).count(1)
    return black > 0.9 * len(data) and data.translate(_BRIGHT).count(1) > 0


def classify(sig, refs):
    """(name, distance, second-best distance) of the reference closest to sig."""
    ranked = sorted((distance(sig, ref), name) for name, ref in refs.items())
    best_d, best = ranked[0]
    second = ranked[1][0] if len(ranked) > 1 else float("inf")
    return best, best_d, second


def colour_box(path, colour, fuzz="6%"):
    """(x, y, w, h) of the pixels of one colour (ImageMagick's trim box of a mask), or None."""
    out = subprocess.run(
        ["convert", path, "-alpha", "off", "-fuzz", fuzz, "-fill", "black", "+opaque", colour,
         "-fill", "white", "-opaque", colour, "-format", "%@", "info:"],
        capture_output=True, text=True, check=True).stdout.strip()
    # "WxH+X+Y"; an all-black mask trims to nothing (0x0 or 1x1).
    try:
        size, x, y = out.split("+")
        w, h = (int(v) for v in size.split("x"))
    except ValueError:
        return None
    if w <= 1 or h <= 1:
        return None
    return int(x), int(y), w, h


def to_png(src, dst):
    subprocess.run(["convert", src, dst], check=True)
