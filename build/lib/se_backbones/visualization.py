"""Pictures of a training run: loss and validation-metric curves, and predictions on val
images (mmdet boxes, mmseg label maps). The CLI is tools/plot_results.py."""
import glob
import json
import os

import cv2
import numpy as np


# validation metrics to plot, and the factor that brings each into [0, 1]
METRICS = {'coco/bbox_mAP': 1, 'coco/bbox_mAP_50': 1, 'coco/segm_mAP': 1, 'mIoU': 100,
           'accuracy/top1': 100}


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
    for key, scale in METRICS.items():
        if val and key in val[0]:
            label = key if scale == 1 else f'{key} / {scale}'
            ax_map.plot([r['step'] for r in val], [r[key] / scale for r in val], 'o-', label=label)
    ax_map.set(xlabel='iteration', ylabel='metric', title='validation', ylim=(0, 1))
    ax_map.legend()
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)


def plot_segmentation(cfg, checkpoint, out_path, num_images=8):
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
