"""A deterministic toy dataset of coloured shapes, written on demand, for the three toolkits.

Each image has a random background (a colour gradient plus noise) and 1-4 shapes (circle,
square, triangle) of varied size, colour and position, which may overlap; later shapes occlude
earlier ones, and the stored polygons, boxes, areas and masks are the visible parts.

    python -m se_backbones.data.toy_shapes data/toy_shapes [--task det|seg|cls]

Layouts, read as they are by mmdet's ``CocoDataset``, mmseg's ``BaseSegDataset`` and
mmpretrain's ``CustomDataset``::

    det: root/{train,val}/000000.png, root/annotations/instances_{train,val}.json
    seg: root/img_dir/{train,val}/000000.png, root/ann_dir/{train,val}/000000.png
         (label 0 background, 1 circle, 2 square, 3 triangle)
    cls: root/{train,val}/{circle,square,triangle}/000000.png (one shape per image)
"""

import argparse
import json
import math
import os
import re

import numpy as np

from ..checks import is_int

# cv2 (opencv-python, which mmcv installs, not a dependency of ours) is imported in the
# functions that draw, so importing this module needs only what pyproject.toml declares.

CLASSES = ('circle', 'square', 'triangle')
PALETTE = [(220, 20, 60), (0, 130, 200), (60, 180, 75)]
VERSION = 2  # bump when the generator changes; a stale root is rewritten


def _shape_mask(kind, size, rng):
    """A binary mask of one shape with its bounding square of side ``size``."""
    import cv2

    mask = np.zeros((size, size), np.uint8)
    if kind == 'circle':
        cv2.circle(mask, (size // 2, size // 2), size // 2, 1, -1)
    elif kind == 'square':
        side = int(size / math.sqrt(2)) if rng.random() < 0.5 else size
        angle = 45 if side < size else 0
        box = cv2.boxPoints(((size / 2, size / 2), (side, side), angle))
        cv2.fillPoly(mask, [np.round(box).astype(np.int32)], 1)
    else:
        top, left, right = (size // 2, 0), (0, size - 1), (size - 1, size - 1)
        cv2.fillPoly(mask, [np.array([top, left, right], np.int32)], 1)
    return mask


def _background(height, width, rng):
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = (
        np.linspace(0, 1, width)[None, :, None]
        if rng.random() < 0.5
        else np.linspace(0, 1, height)[:, None, None]
    )
    image = c0 * (1 - t) + c1 * t + rng.normal(0, 12, (height, width, 3))
    return np.broadcast_to(image, (height, width, 3)).clip(0, 255).astype(np.uint8)


def make_image(rng, height=128, width=128, max_objects=4, sizes=None):
    """One image and its objects: list of (class index, full-image binary mask).

    ``sizes`` is the [low, high) range of a shape's side; default 20-64 px at 128."""
    image = _background(height, width, rng)
    owner = np.full((height, width), -1, np.int64)  # which object each pixel shows
    labels = []
    for index in range(int(rng.integers(1, max_objects + 1))):
        label = int(rng.integers(len(CLASSES)))
        size = int(rng.integers(*(sizes or (20 * height // 128, 65 * height // 128))))
        y, x = int(rng.integers(0, height - size)), int(rng.integers(0, width - size))
        mask = _shape_mask(CLASSES[label], size, rng).astype(bool)
        colour = rng.integers(0, 256, 3)
        while np.abs(colour - image[y : y + size, x : x + size].reshape(-1, 3).mean(0)).sum() < 150:
            colour = rng.integers(0, 256, 3)  # keep shapes visible against the background
        image[y : y + size, x : x + size][mask] = colour
        owner[y : y + size, x : x + size][mask] = index
        labels.append(label)
    objects = [(label, owner == index) for index, label in enumerate(labels)]
    return image, [(label, mask) for label, mask in objects if mask.sum() >= 30]


def _annotation(mask, label, image_id, ann_id):
    import cv2

    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    polygons = [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=label + 1,
        iscrowd=0,
        segmentation=polygons,
        area=float(mask.sum()),
        bbox=[x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1],
    )


def write_split(root, split, num_images, seed, size=128):
    """Write ``root/split/*.png`` and ``root/annotations/instances_split.json``."""
    import cv2

    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, split), exist_ok=True)
    images, annotations = [], []
    for image_id in range(num_images):
        image, objects = make_image(rng, size, size)
        file_name = f'{image_id:06d}.png'
        cv2.imwrite(os.path.join(root, split, file_name), image[:, :, ::-1])
        images.append(dict(id=image_id, file_name=file_name, height=size, width=size))
        for label, mask in objects:
            annotations.append(_annotation(mask, label, image_id, len(annotations) + 1))
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)]
    os.makedirs(os.path.join(root, 'annotations'), exist_ok=True)
    with open(os.path.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)


def write_segmentation_split(root, split, num_images, seed, size=128):
    """Write ``root/img_dir/split/*.png`` and label maps ``root/ann_dir/split/*.png``."""
    import cv2

    rng = np.random.default_rng(seed)
    for folder in ('img_dir', 'ann_dir'):
        os.makedirs(os.path.join(root, folder, split), exist_ok=True)
    for image_id in range(num_images):
        image, objects = make_image(rng, size, size)
        labels = np.zeros((size, size), np.uint8)
        for label, mask in objects:
            labels[mask] = label + 1
        cv2.imwrite(os.path.join(root, 'img_dir', split, f'{image_id:06d}.png'), image[:, :, ::-1])
        cv2.imwrite(os.path.join(root, 'ann_dir', split, f'{image_id:06d}.png'), labels)


def write_classification_split(root, split, num_images, seed, size=128):
    """Write ``root/split/<class>/*.png`` with one large shape (half to 7/8 of the side) per
    image: a shape of a few percent of the image is too faint a signal for a from-scratch
    classifier with global pooling (top-1 stayed at chance in 600 iterations)."""
    import cv2

    rng = np.random.default_rng(seed)
    for name in CLASSES:
        os.makedirs(os.path.join(root, split, name), exist_ok=True)
    image_id = 0
    while image_id < num_images:
        image, objects = make_image(
            rng, size, size, max_objects=1, sizes=(size // 2, size * 7 // 8)
        )
        if not objects:  # too small to see
            continue
        name = CLASSES[objects[0][0]]
        cv2.imwrite(os.path.join(root, split, name, f'{image_id:06d}.png'), image[:, :, ::-1])
        image_id += 1


MIN_SIZE = 8  # below it no one-shape image shows 30 pixels: the cls writer would never end
WRITERS = {'det': write_split, 'seg': write_segmentation_split, 'cls': write_classification_split}
SPLITS = ('train', 'val')


def clear_toy_shapes(root):
    """Remove what :func:`make_toy_shapes` writes under ``root``, for any task: the stamp, the
    annotation files, the six-digit PNGs of the split folders, then those folders if that
    leaves them empty. Other files stay."""
    stamp = os.path.join(root, 'VERSION')
    if os.path.isfile(stamp):
        os.remove(stamp)
    for split in SPLITS:
        path = os.path.join(root, 'annotations', f'instances_{split}.json')
        if os.path.isfile(path):
            os.remove(path)
    folders = [os.path.join(root, split, name) for split in SPLITS for name in CLASSES]
    folders += [
        os.path.join(root, *parts)
        for split in SPLITS
        for parts in ((split,), ('img_dir', split), ('ann_dir', split))
    ]
    folders += [os.path.join(root, name) for name in ('img_dir', 'ann_dir', 'annotations')]
    for folder in folders:  # innermost first
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if re.fullmatch(r'\d{6}\.png', name):
                os.remove(os.path.join(folder, name))
        if not os.listdir(folder):
            os.rmdir(folder)


def make_toy_shapes(root, num_train=400, num_val=100, size=128, seed=0, task='det'):
    """Write the toy set for ``task`` under ``root`` unless the same version, task and sizes
    are there already; a toy set of other sizes or another task there is removed first
    (:func:`clear_toy_shapes`), so no stale image or annotation file stays.

    Args:
        root (str): Output folder.
        num_train (int): Training images. Default: 400.
        num_val (int): Validation images. Default: 100.
        size (int): Image side in pixels, at least 8. Default: 128.
        seed (int): The train split's seed; val uses ``seed + 1``. Default: 0.
        task (str): ``'det'`` (COCO detection and instance masks), ``'seg'`` (semantic label
            maps) or ``'cls'`` (one shape per image, a folder per class). Default: 'det'.

    Returns:
        bool: True if it was written, False if it was up to date.

    Example:
        >>> import tempfile
        >>> root = tempfile.mkdtemp()
        >>> make_toy_shapes(root, num_train=4, num_val=2), make_toy_shapes(root, 4, 2)
        (True, False)
    """
    if task not in WRITERS:
        raise ValueError(f'make_toy_shapes: task must be one of {sorted(WRITERS)}, got {task!r}')
    if not is_int(size) or size < MIN_SIZE:
        raise ValueError(
            f'make_toy_shapes: size must be an int >= {MIN_SIZE} (a shape must show at least 30 '
            f'pixels), got {size!r}'
        )
    stamp_path = os.path.join(root, 'VERSION')
    stamp = f'{VERSION} {task} {num_train} {num_val} {size} {seed}'
    if os.path.exists(stamp_path) and open(stamp_path).read() == stamp:
        return False
    clear_toy_shapes(root)
    WRITERS[task](root, 'train', num_train, seed, size)
    WRITERS[task](root, 'val', num_val, seed + 1, size)
    with open(stamp_path, 'w') as f:
        f.write(stamp)
    return True


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='Write the toy shapes dataset.')
    parser.add_argument('root', nargs='?', default='data/toy_shapes')
    parser.add_argument('--task', choices=sorted(WRITERS), default='det')
    parser.add_argument('--num-train', type=int, default=400)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--size', type=int, default=128)
    args = parser.parse_args()
    written = make_toy_shapes(args.root, args.num_train, args.num_val, args.size, task=args.task)
    print(f'{args.root}: {"written" if written else "up to date"}')
