"""Pictures of a training run: loss and validation-metric curves, and predictions on val
images (mmdet boxes, mmseg label maps). The CLI is tools/plot_results.py."""

import glob
import json
import os

import numpy as np

# cv2 (opencv-python, which mmcv installs, not a dependency of ours) is imported in the
# functions that draw, so importing this module needs only what pyproject.toml declares.


# validation metrics to plot, and the factor that brings each into [0, 1]
METRICS = {
    'coco/bbox_mAP': 1,
    'coco/bbox_mAP_50': 1,
    'coco/segm_mAP': 1,
    'mIoU': 100,
    'accuracy/top1': 100,
}


def read_scalars(work_dir):
    """(train rows, val rows) logged in ``work_dir``, over all its runs, in order."""
    runs = sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not runs:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}')
    train, val, last_iter = {}, [], 0
    for path in runs:  # a resumed run continues in a new timestamped folder
        with open(path) as f:
            for row in map(json.loads, filter(str.strip, f)):
                if 'loss' in row:
                    train[row['step']] = row
                    last_iter = row['step']
                elif any(k in METRICS for k in row):
                    # logged by epoch (LoggerHook's default), iteration-based val rows carry
                    # step 0: date them by the training log
                    val.append(dict(row, step=row.get('step') or last_iter))
    return [train[k] for k in sorted(train)], val


def plot_curves(work_dir, out_path):
    """curves.png: the training losses and the validation metrics over iterations. A series
    with no points (a run shorter than the log interval, no validation yet) is left out and
    named on its panel. Returns the names of the plotted series."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    train, val = read_scalars(work_dir)
    fig, (ax_loss, ax_map) = plt.subplots(1, 2, figsize=(10, 4))
    plotted = []
    for key in (
        'loss',
        'loss_rpn_cls',
        'loss_rpn_bbox',
        'loss_cls',
        'loss_bbox',
        'loss_mask',
        'decode.loss_ce',
        'aux.loss_ce',
    ):
        points = [(r['step'], r[key]) for r in train if key in r]
        if points:
            ax_loss.plot(*zip(*points, strict=True), label=key)
            plotted.append(key)
    for key, scale in METRICS.items():
        points = [(r['step'], r[key] / scale) for r in val if key in r]
        if points:
            label = key if scale == 1 else f'{key} / {scale}'
            ax_map.plot(*zip(*points, strict=True), 'o-', label=label)
            plotted.append(key)
    for ax, what in ((ax_loss, 'training loss'), (ax_map, 'validation metric')):
        if ax.lines:
            ax.legend()
        else:  # said on the panel and in the log, not an empty legend or an IndexError
            ax.text(
                0.5, 0.5, f'no {what} logged yet', ha='center', va='center', transform=ax.transAxes
            )
            print(f'{out_path}: no {what} logged in {work_dir}; its panel is empty')
    ax_loss.set(xlabel='iteration', ylabel='loss', title='training loss')
    ax_map.set(xlabel='iteration', ylabel='metric', title='validation', ylim=(0, 1))
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)
    return plotted


def outlined_rectangle(image, p0, p1, colour, thickness):
    """A box readable on any background: the colour over a black outline."""
    import cv2

    cv2.rectangle(image, p0, p1, (0, 0, 0), thickness + 2)
    cv2.rectangle(image, p0, p1, colour, thickness)


def outlined_text(image, text, origin, colour, size=0.4):
    import cv2

    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), 3)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, colour, 1)


def legend_strip(classes, palette, score_thr):
    """A white strip saying what the boxes are: ground truth, each class's colour, and the
    score threshold of the predictions shown."""
    import cv2

    font, size, ink = cv2.FONT_HERSHEY_SIMPLEX, 0.4, (30, 30, 30)
    lines = [
        [('ground truth', (255, 255, 255), 1)],
        [
            (f'predicted {name}', tuple(int(c) for c in colour[::-1]), 2)
            for name, colour in zip(classes, palette, strict=False)
        ],  # a palette may be longer
        [(f'labels: class and score; predictions shown if score >= {score_thr:.2f}', None, 0)],
    ]
    widths = [
        sum(30 * bool(c) + cv2.getTextSize(t, font, size, 1)[0][0] + 14 for t, c, _ in line)
        for line in lines
    ]
    strip = np.full((20 * len(lines) + 6, max(widths) + 6, 3), 255, np.uint8)
    for row, line in enumerate(lines):
        x, y = 6, 20 * row + 6
        for text, colour, thickness in line:
            if colour is not None:
                outlined_rectangle(strip, (x, y + 2), (x + 22, y + 13), colour, thickness)
                x += 30
            cv2.putText(strip, text, (x, y + 13), font, size, ink, 1, cv2.LINE_AA)
            x += cv2.getTextSize(text, font, size, 1)[0][0] + 14
    return strip


def stack_padded(images):
    """``images`` one above the other, each padded with white to the widest."""
    width = max(image.shape[1] for image in images)
    return np.vstack(
        [
            np.pad(image, ((0, 0), (0, width - image.shape[1]), (0, 0)), constant_values=255)
            for image in images
        ]
    )


def plot_segmentation(cfg, checkpoint, out_path, num_images=8):
    import cv2
    from mmseg.apis import inference_model, init_model

    dataset = cfg.val_dataloader.dataset
    image_dir = os.path.join(dataset.data_root, dataset.data_prefix['img_path'])
    label_dir = os.path.join(dataset.data_root, dataset.data_prefix['seg_map_path'])
    model = init_model(cfg, checkpoint, device='cpu')
    palette = np.array(model.dataset_meta['palette'], np.uint8)[:, ::-1]  # BGR
    columns = []
    for name in sorted(os.listdir(image_dir))[:num_images]:
        image = cv2.imread(os.path.join(image_dir, name))
        truth = cv2.imread(os.path.join(label_dir, name), cv2.IMREAD_GRAYSCALE)
        pred = inference_model(model, image).pred_sem_seg.data[0].numpy()
        columns.append(np.vstack([image, palette[pred], palette[truth]]))
    cv2.imwrite(out_path, np.hstack(columns))


def plot_predictions(config, checkpoint, out_path, num_images=8, score_thr=0.5):
    import cv2
    from mmengine.config import Config

    cfg = Config.fromfile(config)
    if cfg.get('default_scope') == 'mmseg':
        return plot_segmentation(cfg, checkpoint, out_path, num_images)
    from mmdet.apis import inference_detector, init_detector

    dataset = cfg.val_dataloader.dataset
    root = dataset.data_root
    with open(os.path.join(root, dataset.ann_file)) as f:
        coco = json.load(f)
    model = init_detector(cfg, checkpoint, device='cpu')
    palette = model.dataset_meta['palette']
    classes = model.dataset_meta['classes']
    tiles = []
    for info in coco['images'][:num_images]:
        path = os.path.join(root, dataset.data_prefix['img'], info['file_name'])
        image = cv2.imread(path)
        pred = inference_detector(model, path).pred_instances
        scale = 2  # draw on a 2x image for legible labels
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        for ann in coco['annotations']:
            if ann['image_id'] == info['id']:
                x, y, w, h = (np.array(ann['bbox']) * scale).astype(int)
                outlined_rectangle(image, (x, y), (x + w, y + h), (255, 255, 255), 1)
        for box, label, score in zip(
            pred.bboxes.numpy(), pred.labels.numpy(), pred.scores.numpy(), strict=True
        ):
            if score < score_thr:
                continue
            x0, y0, x1, y1 = (box * scale).astype(int)
            colour = tuple(int(c) for c in palette[label][::-1])
            outlined_rectangle(image, (x0, y0), (x1, y1), colour, 2)
            outlined_text(
                image, f'{classes[label]} {score:.2f}', (x0, max(y0 - 4, 10)), colour, 0.35
            )
        tiles.append(image)
    columns = min(4, len(tiles))  # rows of 4; the last one padded with blank tiles
    tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % columns)
    grid = np.vstack([np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)])
    cv2.imwrite(out_path, stack_padded([legend_strip(classes, palette, score_thr), grid]))


def plot_run(work_dir, config=None, checkpoint=None, num_images=8):
    """curves.png and predictions.png of a run, in ``work_dir``; by default from the config it
    saved there and its last checkpoint. Returns both paths."""
    curves = os.path.join(work_dir, 'curves.png')
    plot_curves(work_dir, curves)
    config = config or sorted(glob.glob(os.path.join(work_dir, '*.py')))[0]
    if checkpoint is None:
        with open(os.path.join(work_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()
    predictions = os.path.join(work_dir, 'predictions.png')
    plot_predictions(config, checkpoint, predictions, num_images)
    print(f'wrote {curves} and {predictions}')
    return curves, predictions
