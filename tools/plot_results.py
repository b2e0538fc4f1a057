"""Pictures of a detection run: loss and mAP curves, and predicted boxes on val images.

    python tools/plot_results.py WORK_DIR [--config CFG] [--checkpoint CKPT] [--num-images 8]

Reads the newest ``WORK_DIR/<timestamp>/vis_data/scalars.json`` and writes
``WORK_DIR/curves.png``; with the config and checkpoint (default: the run's config and last
checkpoint) writes ``WORK_DIR/predictions.png``: val images with predicted boxes (score >= 0.5,
class-coloured, with scores) and ground-truth boxes in white.
"""
import argparse
import glob
import json
import os

import cv2
import numpy as np


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
                elif any(k.startswith('coco/') for k in row):
                    # iteration-based val rows carry step 0: date them by the training log
                    val.append(dict(row, step=last_iter))
    return [train[k] for k in sorted(train)], val


def plot_curves(work_dir, out_path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    train, val = read_scalars(work_dir)
    fig, (ax_loss, ax_map) = plt.subplots(1, 2, figsize=(10, 4))
    steps = [r['step'] for r in train]
    for key in ('loss', 'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'):
        if key in train[0]:
            ax_loss.plot(steps, [r[key] for r in train], label=key)
    ax_loss.set(xlabel='iteration', ylabel='loss', title='training loss')
    ax_loss.legend()
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP'):
        if val and key in val[0]:
            ax_map.plot([r['step'] for r in val], [r[key] for r in val], 'o-', label=key)
    ax_map.set(xlabel='iteration', ylabel='AP', title='val AP', ylim=(0, 1))
    ax_map.legend()
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)


def plot_predictions(config, checkpoint, out_path, num_images=8, score_thr=0.5):
    from mmdet.apis import inference_detector, init_detector
    from mmengine.config import Config

    from se_backbones.checkpoint import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()  # the run's own checkpoint, under weights_only=True
    cfg = Config.fromfile(config)
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
                cv2.rectangle(image, (x, y), (x + w, y + h), (255, 255, 255), 1)
        for box, label, score in zip(pred.bboxes.numpy(), pred.labels.numpy(),
                                     pred.scores.numpy()):
            if score < score_thr:
                continue
            x0, y0, x1, y1 = (box * scale).astype(int)
            colour = tuple(int(c) for c in palette[label][::-1])
            cv2.rectangle(image, (x0, y0), (x1, y1), colour, 2)
            cv2.putText(image, f'{classes[label]} {score:.2f}', (x0, max(y0 - 3, 9)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1)
        tiles.append(image)
    rows = [np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles) - len(tiles) % 4, 4)]
    cv2.imwrite(out_path, np.vstack(rows) if rows else tiles[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--config', help='default: the config file saved in WORK_DIR')
    parser.add_argument('--checkpoint', help='default: WORK_DIR/last_checkpoint')
    parser.add_argument('--num-images', type=int, default=8)
    args = parser.parse_args(argv)
    curves = os.path.join(args.work_dir, 'curves.png')
    plot_curves(args.work_dir, curves)
    config = args.config or sorted(glob.glob(os.path.join(args.work_dir, '*.py')))[0]
    checkpoint = args.checkpoint
    if checkpoint is None:
        with open(os.path.join(args.work_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()
    predictions = os.path.join(args.work_dir, 'predictions.png')
    plot_predictions(config, checkpoint, predictions, args.num_images)
    print(f'wrote {curves} and {predictions}')
    return curves, predictions


if __name__ == '__main__':
    main()
