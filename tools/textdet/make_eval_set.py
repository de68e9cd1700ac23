#!/usr/bin/python3
"""Generates the text-detection evaluation set in assets/textdet/ (deterministic).

Text lines are rendered with Debian's DejaVu and Liberation fonts onto crops of freely licensed
photos from Debian's `lomiri-wallpapers-16.04` package; each line's ground-truth box is the exact
ink bounding box of its rendered glyphs (including any outline), measured from the line's own
alpha mask. Some images are turned by 90° as a whole (text and photo), and some images carry one
vertical line, so that test-time augmentation with quarter turns has something to find.

Needs (Debian 12):
    apt-get install python3-pil fonts-dejavu-core fonts-liberation2 lomiri-wallpapers-16.04
Run from the repository root:
    /usr/bin/python3 tools/textdet/make_eval_set.py            # writes assets/textdet/
    /usr/bin/python3 tools/textdet/make_eval_set.py --check    # regenerates in memory, compares

Box convention: [x0, y0, x1, y1] in pixels of the saved image, x1 and y1 exclusive.
"""
import argparse
import hashlib
import io
import json
import math
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont, ImageStat
import PIL

SEED = 20240611
COUNT = 80
JPEG_QUALITY = 84
OUT = os.path.join('assets', 'textdet')
PHOTO_DIR = '/usr/share/backgrounds'

# (file in PHOTO_DIR, author, licence) — all from lomiri-wallpapers-16.04 (debian/copyright).
# Left out on purpose: umang_by_Abhishek_Mudgal.jpg (a colour gradient, not a photo),
# Wine_by_Jakkub_Mede.jpg (a bottle label with text that has no ground truth), and the
# CC-BY-SA ones (share-alike).
PHOTOS = [
    ('aitzgorri_by_Aitzol_Berasategi.jpg', 'Aitzol Berasategi', 'CC-BY-4.0'),
    ('friends_by_Aitzol_Berasategi.jpg', 'Aitzol Berasategi', 'CC-BY-4.0'),
    ('life_by_Aitzol_Berasategi.jpg', 'Aitzol Berasategi', 'CC-BY-4.0'),
    ('picosdeeuropa_by_Aitzol_Berasategi.jpg', 'Aitzol Berasategi', 'CC-BY-4.0'),
    ('sunset_by_Aitzol_Berasategi.jpg', 'Aitzol Berasategi', 'CC-BY-4.0'),
    ('Picture_0B_by_freespace.jpg', 'Trevor "Freespace"', 'CC-BY-4.0'),
    ('Picture_1A_by_freespace.jpg', 'Trevor "Freespace"', 'CC-BY-4.0'),
    ('seeding_by_Clements_Engelhardt.jpg', 'Clemens Engelhardt', 'CC0-1.0'),
]

FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/truetype/liberation2']
FONTS = [
    'DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf',
    'DejaVuSansMono.ttf', 'DejaVuSansCondensed.ttf', 'DejaVuSans-Oblique.ttf',
    'LiberationSans-Regular.ttf', 'LiberationSans-Bold.ttf', 'LiberationSerif-Regular.ttf',
    'LiberationSerif-Bold.ttf', 'LiberationSerif-Italic.ttf', 'LiberationMono-Regular.ttf',
    'LiberationSans-BoldItalic.ttf',
]

# (height, width) of the saved images: all multiples of 128, so ×0.75, ×1.25 and ×1.5 stay
# multiples of 32 (what the detector needs).
SIZES = [(640, 640)] * 6 + [(512, 768), (768, 512)]

WORDS = """
open daily fresh bread coffee market station north south east west exit entrance platform ticket
office garden museum library hotel river bridge street avenue road park square harbour castle
mountain valley lake forest trail summit view point welcome closed sale discount special offer
today tomorrow weekend morning evening night menu lunch dinner breakfast pizza pasta salad soup
tea water juice wine beer price total free parking private public hours monday tuesday friday
saturday sunday january march june october december bus tram train airport taxi hospital school
university centre central old new little great grand royal national city town village stop slow
danger caution warning keep left right ahead only no entry push pull please thank you order pay
here cash card books music cinema theatre gallery photo studio bakery pharmacy flowers fruit
""".split()


def phrase(rng):
    kind = rng.random()
    if kind < 0.12:
        return f'{rng.randint(1, 999)}.{rng.randint(0, 99):02d} EUR'
    if kind < 0.20:
        return f'{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1990, 2030)}'
    if kind < 0.27:
        letters = ''.join(rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ') for _ in range(rng.randint(2, 3)))
        return f'{letters}-{rng.randint(10, 9999)}'
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 5))]
    style = rng.random()
    if style < 0.3:
        words = [w.upper() for w in words]
    elif style < 0.65:
        words = [w.capitalize() for w in words]
    if rng.random() < 0.25:
        words.append(str(rng.randint(1, 500)))
    return ' '.join(words)


def font_size(rng):
    r = rng.random()
    if r < 0.30:
        return rng.randint(12, 19)   # small: what an up-scaled pass should help with
    if r < 0.75:
        return rng.randint(20, 36)
    return rng.randint(37, 64)


def luminance(rgb):
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b


def text_colour(rng, background):
    """A fill that contrasts with the mean colour of the background under the line."""
    light = luminance(background) < 128
    hue = rng.random()
    sat = rng.choice([0.0, 0.0, 0.3, 0.7, 1.0])
    if light:
        val = rng.uniform(0.85, 1.0)
    else:
        val = rng.uniform(0.0, 0.3)
    return hsv(hue, sat, val)


def hsv(h, s, v):
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (round(r * 255), round(g * 255), round(b * 255))


def photo_crop(rng, photos, height, width):
    name, image = photos[rng.randrange(len(photos))]
    pw, ph = image.size
    # A window of the target aspect ratio covering 25–80% of the photo's shorter side.
    frac = rng.uniform(0.25, 0.8)
    cw = min(pw, ph * width / height) * frac
    ch = cw * height / width
    x = rng.uniform(0, pw - cw)
    y = rng.uniform(0, ph - ch)
    crop = image.resize((width, height), Image.BILINEAR, box=(x, y, x + cw, y + ch), reducing_gap=3.0)
    if rng.random() < 0.5:
        crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
    return name, crop


def overlaps(box, boxes, margin):
    x0, y0, x1, y1 = box
    for a0, b0, a1, b1 in boxes:
        if x0 < a1 + margin and a0 < x1 + margin and y0 < b1 + margin and b0 < y1 + margin:
            return True
    return False


def render_line(rng, canvas, fonts, boxes, vertical):
    """Tries to place one line; returns (box, text) or None."""
    width, height = canvas.size
    for _ in range(40):
        text = phrase(rng)
        size = font_size(rng)
        font = fonts[rng.randrange(len(fonts))]
        face = ImageFont.truetype(font, size)
        layer_w = int(face.getlength(text)) + 2 * size
        layer_h = 3 * size
        if (layer_h if vertical else layer_w) > (height if vertical else width) - 16:
            continue
        mask = Image.new('L', (layer_w, layer_h), 0)
        fill_mask = Image.new('L', (layer_w, layer_h), 0)
        d = ImageDraw.Draw(mask)
        # 15% of lines get an outline in black or white; colours are chosen after placement.
        stroke = max(1, size // 14) if rng.random() < 0.15 else 0
        d.text((size, size), text, font=face, fill=255, stroke_width=stroke, stroke_fill=255)
        ImageDraw.Draw(fill_mask).text((size, size), text, font=face, fill=255)
        if vertical:
            turn = rng.choice([Image.ROTATE_90, Image.ROTATE_270])
            mask = mask.transpose(turn)
            fill_mask = fill_mask.transpose(turn)
        ink = mask.getbbox()
        if ink is None:
            continue
        iw, ih = ink[2] - ink[0], ink[3] - ink[1]
        if iw > width - 16 or ih > height - 16:
            continue
        x = rng.randint(8, width - 8 - iw)
        y = rng.randint(8, height - 8 - ih)
        box = (x, y, x + iw, y + ih)
        if overlaps(box, boxes, max(6, size // 2)):
            continue
        region = canvas.crop(box)
        background = tuple(ImageStat.Stat(region).mean[:3])
        fill = text_colour(rng, background)
        ox, oy = x - ink[0], y - ink[1]
        if stroke > 0:
            outline = (0, 0, 0) if luminance(fill) > 128 else (255, 255, 255)
            canvas.paste(Image.new('RGB', mask.size, outline), (ox, oy), mask)
        canvas.paste(Image.new('RGB', mask.size, fill), (ox, oy), fill_mask)
        return box, text
    return None


def turn_box(box, turn, width, height):
    """The box after turning a width×height image by `turn` (PIL's ROTATE_90 is counter-clockwise)."""
    x0, y0, x1, y1 = box
    if turn == 90:   # counter-clockwise: (x, y) -> (y, width - x)
        return (y0, width - x1, y1, width - x0)
    if turn == 270:  # clockwise: (x, y) -> (height - y, x)
        return (height - y1, x0, height - y0, x1)
    return box


def make_image(rng, photos, fonts, index):
    height, width = SIZES[rng.randrange(len(SIZES))]
    turn = rng.choice([90, 270]) if rng.random() < 0.3 else 0
    # Render in the pre-turn frame, so the saved image has size height×width.
    rh, rw = (width, height) if turn else (height, width)
    photo, canvas = photo_crop(rng, photos, rh, rw)
    lines = []
    boxes = []
    wanted = rng.randint(3, 8)
    one_vertical = turn == 0 and rng.random() < 0.2
    for k in range(wanted):
        vertical = one_vertical and k == 0
        placed = render_line(rng, canvas, fonts, boxes, vertical)
        if placed is None:
            continue
        box, text = placed
        boxes.append(box)
        lines.append({'box': list(box), 'text': text, 'vertical': vertical})
    if turn:
        canvas = canvas.transpose(Image.ROTATE_90 if turn == 90 else Image.ROTATE_270)
        for line in lines:
            line['box'] = list(turn_box(line['box'], turn, rw, rh))
            line['vertical'] = not line['vertical']
    assert canvas.size == (width, height)
    buf = io.BytesIO()
    canvas.save(buf, 'JPEG', quality=JPEG_QUALITY, optimize=True)
    name = f'{index:03d}.jpg'
    return name, buf.getvalue(), {
        'file': f'images/{name}', 'width': width, 'height': height, 'turn': turn,
        'photo': photo, 'lines': lines,
    }


def generate():
    rng = random.Random(SEED)
    photos = []
    for name, _, _ in PHOTOS:
        image = Image.open(os.path.join(PHOTO_DIR, name))
        image.draft('RGB', (image.size[0] // 2, image.size[1] // 2))  # JPEG DCT scaling: faster, deterministic
        photos.append((name, image.convert('RGB')))
    fonts = []
    for f in FONTS:
        path = next(os.path.join(d, f) for d in FONT_DIRS if os.path.exists(os.path.join(d, f)))
        fonts.append(path)
    files = {}
    records = []
    for i in range(COUNT):
        name, data, record = make_image(rng, photos, fonts, i)
        files[name] = data
        records.append(record)
    truth = {
        'description': 'Text lines rendered onto photo crops; see README.md. Boxes are [x0, y0, x1, y1], x1/y1 exclusive.',
        'generator': 'tools/textdet/make_eval_set.py',
        'seed': SEED,
        'pillow': PIL.__version__,
        'images': records,
    }
    return files, truth


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--check', action='store_true', help='regenerate in memory and compare with assets/textdet/')
    args = parser.parse_args()
    files, truth = generate()
    truth_text = json.dumps(truth, indent=1) + '\n'
    if args.check:
        bad = [n for n, d in files.items() if not os.path.exists(os.path.join(OUT, 'images', n)) or open(os.path.join(OUT, 'images', n), 'rb').read() != d]
        same_truth = open(os.path.join(OUT, 'truth.json')).read() == truth_text
        print(f'{len(files) - len(bad)}/{len(files)} images identical, truth.json {"identical" if same_truth else "DIFFERS"}')
        sys.exit(0 if not bad and same_truth else 1)
    os.makedirs(os.path.join(OUT, 'images'), exist_ok=True)
    for n, d in files.items():
        with open(os.path.join(OUT, 'images', n), 'wb') as f:
            f.write(d)
    with open(os.path.join(OUT, 'truth.json'), 'w') as f:
        f.write(truth_text)
    total = sum(len(d) for d in files.values())
    lines = sum(len(r['lines']) for r in truth['images'])
    digest = hashlib.sha256(b''.join(files[n] for n in sorted(files)) + truth_text.encode()).hexdigest()[:16]
    print(f'{len(files)} images, {lines} lines, {total / 1e6:.2f} MB of JPEG, sha256 {digest}')


if __name__ == '__main__':
    main()
