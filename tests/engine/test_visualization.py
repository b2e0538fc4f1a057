"""The pictures of a run, drawn from logs written here (the end-to-end run of
tools/plot_results.py is tests/tools/test_plot_results.py): which rows are read, what each panel
shows, the drawing helpers' pixels."""

import json
import os
import types

import cv2
import matplotlib.figure
import numpy as np
import pytest
import torch

from se_backbones.engine.visualization import (
    legend_strip,
    outlined_rectangle,
    outlined_text,
    plot_curves,
    plot_predictions,
    plot_run,
    read_scalars,
    stack_padded,
)


def write_runs(work_dir, runs):
    """``runs``: per timestamped run folder, its scalars.json rows (None: a blank line)."""
    for name, rows in runs.items():
        log = work_dir / name / 'vis_data' / 'scalars.json'
        log.parent.mkdir(parents=True)
        log.write_text(''.join('\n' if row is None else json.dumps(row) + '\n' for row in rows))


RUNS = {
    '20260101_000000': [
        {'step': 1, 'loss': 3.0, 'loss_cls': 2.0, 'lr': 0.1},
        {'step': 2, 'loss': 2.0, 'loss_cls': 1.5},
        None,
        {'step': 0, 'coco/bbox_mAP': 0.1, 'coco/bbox_mAP_50': 0.3},  # dated by the log
        {'step': 2, 'data_time': 0.1},  # neither a loss nor a metric
    ],
    '20260102_000000': [  # resumed from iteration 1: its rows replace the first run's
        {'step': 2, 'loss': 1.5, 'loss_cls': 1.0},
        {'step': 3, 'loss': 1.0, 'loss_cls': 0.5},
        {'step': 3, 'mIoU': 50.0},
        {'step': 0, 'accuracy/top1': 30.0},
    ],
}


def test_read_scalars_over_resumed_runs(tmp_path):
    write_runs(tmp_path, RUNS)
    train, val = read_scalars(str(tmp_path))
    assert train == [RUNS['20260101_000000'][0], *RUNS['20260102_000000'][:2]]
    assert val == [
        {'step': 2, 'coco/bbox_mAP': 0.1, 'coco/bbox_mAP_50': 0.3},
        {'step': 3, 'mIoU': 50.0},
        {'step': 3, 'accuracy/top1': 30.0},
    ]


def test_a_val_row_keeps_its_own_step_and_one_before_any_training_is_at_0(tmp_path):
    write_runs(
        tmp_path,
        {
            '20260101_000000': [
                {'step': 0, 'mIoU': 10.0},  # before any training row: iteration 0
                {'step': 4, 'loss': 1.0},
                {'step': 7, 'mIoU': 20.0},  # its own step, not the last training one
            ]
        },
    )
    assert read_scalars(str(tmp_path))[1] == [{'step': 0, 'mIoU': 10.0}, {'step': 7, 'mIoU': 20.0}]


def test_no_log_is_named(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        read_scalars(str(tmp_path))
    assert str(error.value) == f'no */vis_data/scalars.json under {tmp_path}'


@pytest.fixture
def figures(monkeypatch):
    """The figures saved, as they were drawn."""
    saved = []
    original = matplotlib.figure.Figure.savefig

    def savefig(self, *args, **kwargs):
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, 'savefig', savefig)
    return saved


def lines(ax):
    return [
        (line.get_label(), list(line.get_xdata()), list(line.get_ydata()), line.get_marker())
        for line in ax.lines
    ]


def test_curves_show_each_loss_and_each_metric_in_0_1(tmp_path, figures, capsys):
    write_runs(tmp_path, RUNS)
    out = str(tmp_path / 'curves.png')
    plotted = plot_curves(str(tmp_path), out)
    assert plotted == [
        'loss',
        'loss_cls',
        'coco/bbox_mAP',
        'coco/bbox_mAP_50',
        'mIoU',
        'accuracy/top1',
    ]
    assert capsys.readouterr().out == ''
    (figure,) = figures
    loss, metric = figure.axes
    assert lines(loss) == [
        ('loss', [1, 2, 3], [3.0, 1.5, 1.0], 'None'),
        ('loss_cls', [1, 2, 3], [2.0, 1.0, 0.5], 'None'),
    ]
    assert lines(metric) == [
        ('coco/bbox_mAP', [2], [0.1], 'o'),
        ('coco/bbox_mAP_50', [2], [0.3], 'o'),
        ('mIoU / 100', [3], [0.5], 'o'),
        ('accuracy/top1 / 100', [3], [0.3], 'o'),
    ]
    assert [t.get_text() for t in loss.get_legend().get_texts()] == ['loss', 'loss_cls']
    assert len(metric.get_legend().get_texts()) == 4
    assert (loss.get_title(), loss.get_xlabel(), loss.get_ylabel()) == (
        'training loss',
        'iteration',
        'loss',
    )
    assert (metric.get_title(), metric.get_xlabel(), metric.get_ylabel()) == (
        'validation',
        'iteration',
        'metric',
    )
    assert metric.get_ylim() == (0, 1)
    assert cv2.imread(out).shape == (400, 1000, 3)
    left, right = loss.get_position(), metric.get_position()  # side by side, loss first
    assert left.x1 < right.x0 and abs(left.y0 - right.y0) < 0.02 and left.height > 0.6


LOSSES = 'loss loss_rpn_cls loss_rpn_bbox loss_cls loss_bbox loss_mask'.split()  # mmdet's
LOSSES += ['decode.loss_ce', 'aux.loss_ce']  # mmseg's decode and auxiliary heads


def test_curves_show_the_losses_of_mmdet_and_mmseg_at_100_dpi_whatever_the_rc(tmp_path, figures):
    """Faster/Mask R-CNN's (RPN, box, mask) and mmseg's (decode, auxiliary head) losses, in
    that order; the picture is 1000x400 under a user's own dpi settings too."""
    row = {'step': 1, 'ignored_loss': 9.0, **{key: float(i) for i, key in enumerate(LOSSES)}}
    write_runs(tmp_path, {'20260101_000000': [row]})
    out = str(tmp_path / 'curves.png')
    with matplotlib.rc_context({'figure.dpi': 50, 'savefig.dpi': 50}):
        assert plot_curves(str(tmp_path), out) == LOSSES
    assert [label for label, *_ in lines(figures[0].axes[0])] == LOSSES
    assert cv2.imread(out).shape == (400, 1000, 3)


def test_an_empty_panel_says_so(tmp_path, figures, capsys):
    write_runs(tmp_path, {'20260101_000000': [{'step': 1, 'loss': 2.0}]})
    out = str(tmp_path / 'curves.png')
    assert plot_curves(str(tmp_path), out) == ['loss']
    assert capsys.readouterr().out == (
        f'{out}: no validation metric logged in {tmp_path}; its panel is empty\n'
    )
    loss, metric = figures[0].axes
    assert loss.get_legend() is not None and metric.get_legend() is None
    (text,) = metric.texts
    assert text.get_text() == 'no validation metric logged yet'
    assert text.get_position() == (0.5, 0.5) and text.get_transform() == metric.transAxes
    assert (text.get_ha(), text.get_va()) == ('center', 'center')
    assert not loss.texts


WHITE, BLACK, RED = (255, 255, 255), (0, 0, 0), (0, 0, 255)


def colour_at(image, x, y):
    return tuple(int(c) for c in image[y, x])


def test_outlined_rectangle_is_the_colour_over_a_black_outline():
    image = np.full((20, 20, 3), 255, np.uint8)
    outlined_rectangle(image, (5, 5), (14, 14), RED, 1)
    assert colour_at(image, 5, 10) == RED and colour_at(image, 14, 10) == RED
    assert [colour_at(image, x, 10) for x in range(2, 10)] == [
        WHITE,
        BLACK,
        BLACK,
        RED,
        BLACK,
        BLACK,
        WHITE,
        WHITE,
    ]  # cv2's 3-px line: 2 px each side of the 1-px one
    assert colour_at(image, 10, 10) == WHITE  # not filled


def test_outlined_text_is_the_colour_over_a_black_outline_at_its_size():
    image = np.full((40, 120, 3), 255, np.uint8)
    outlined_text(image, 'Hello', (10, 25), RED)
    colours = {tuple(int(c) for c in p) for p in image.reshape(-1, 3)}
    assert {WHITE, BLACK} <= colours
    assert any(r - g > 100 for b, g, r in colours)  # the red text, anti-aliased
    assert all(g == b for b, g, r in colours)  # red, black, white and their blends only
    ys, xs = np.nonzero((image != 255).any(axis=2))
    (width, height), _ = cv2.getTextSize('Hello', cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
    assert abs(xs.max() - xs.min() + 1 - width) <= 4  # about the text's width (and outline)
    assert xs.min() >= 8 and ys.max() <= 25 + 3
    bigger = np.full((60, 200, 3), 255, np.uint8)
    outlined_text(bigger, 'Hello', (10, 40), RED, size=0.8)
    assert np.ptp(np.nonzero((bigger != 255).any(axis=2))[1]) > xs.max() - xs.min()


def test_legend_strip_has_a_line_per_kind_and_each_class_colour():
    classes = ('circle', 'square')
    palette = [(220, 20, 60), (0, 130, 200), (60, 180, 75)]  # longer than the classes
    strip = legend_strip(classes, palette, 0.5)
    font = cv2.FONT_HERSHEY_SIMPLEX

    def text_width(text):
        return cv2.getTextSize(text, font, 0.4, 1)[0][0]

    widths = [
        30 + text_width('ground truth') + 14,
        sum(30 + text_width(f'predicted {name}') + 14 for name in classes),
        text_width('labels: class and score; predictions shown if score >= 0.50') + 14,
    ]
    assert strip.shape == (3 * 20 + 6, max(widths) + 6, 3) and strip.dtype == np.uint8
    colours = {tuple(int(c) for c in p) for p in strip.reshape(-1, 3)}
    for rgb in palette[:2]:
        assert tuple(reversed(rgb)) in colours  # drawn in BGR
    assert tuple(reversed(palette[2])) not in colours
    # the text: dark grey ink (30) anti-aliased into the white; nothing else but the boxes
    greys = {c[0] for c in colours if c[0] == c[1] == c[2] and c != BLACK}
    assert 30 <= min(greys) < 40
    assert colours - {(g, g, g) for g in greys} <= {BLACK, *(bgr(rgb) for rgb in palette[:2])}
    assert colour_at(strip, 0, 0) == WHITE and colour_at(strip, strip.shape[1] - 1, 65) == WHITE


def test_legend_strip_drawn_by_hand():
    """Rows 20 px apart from y = 6, each from x = 6: a 22x11 swatch (the colour over a black
    outline 2 px wider; ground truth 1 px white, each class 2 px of its colour), 8 px, then the
    text in dark grey (30), anti-aliased, on its baseline 13 px below the row's top; 14 px to
    the next item. Here the classes' row is the widest."""
    classes = ('circle', 'square', 'triangle')
    palette = [(220, 20, 60), (0, 130, 200), (60, 180, 75)]
    font, ink = cv2.FONT_HERSHEY_SIMPLEX, (30, 30, 30)
    items = [
        [('ground truth', WHITE, 1)],
        [(f'predicted {name}', bgr(rgb), 2) for name, rgb in zip(classes, palette, strict=True)],
        [('labels: class and score; predictions shown if score >= 0.25', None, 0)],
    ]
    advance = [
        [(30 if c else 0) + cv2.getTextSize(t, font, 0.4, 1)[0][0] + 14 for t, c, _ in line]
        for line in items
    ]
    width = max(sum(line) for line in advance) + 6
    assert width == sum(advance[1]) + 6
    expected = np.full((66, width, 3), 255, np.uint8)
    for row, line in enumerate(items):
        x, top = 6, 6 + 20 * row
        for (text, colour, thickness), step in zip(line, advance[row], strict=True):
            if colour:
                cv2.rectangle(expected, (x, top + 2), (x + 22, top + 13), BLACK, thickness + 2)
                cv2.rectangle(expected, (x, top + 2), (x + 22, top + 13), colour, thickness)
            cv2.putText(
                expected,
                text,
                (x + (30 if colour else 0), top + 13),
                font,
                0.4,
                ink,
                1,
                cv2.LINE_AA,
            )
            x += step
    assert np.array_equal(legend_strip(classes, palette, 0.25), expected)


def test_stack_padded_pads_with_white_on_the_right():
    narrow = np.zeros((2, 3, 3), np.uint8)
    wide = np.full((4, 5, 3), 7, np.uint8)
    stacked = stack_padded([narrow, wide])
    assert stacked.shape == (6, 5, 3)
    assert (stacked[:2, :3] == 0).all() and (stacked[:2, 3:] == 255).all()
    assert (stacked[2:] == 7).all()


# --- predictions.png: mmdet's and mmseg's inference stood in by known predictions -------------

CLASSES = ('circle', 'square')
PALETTE = [(220, 20, 60), (0, 130, 200)]  # RGB, as the toolkits' dataset_meta
GREY = (128, 128, 128)


class Inference:
    """Stand-ins of ``init_detector``/``init_model`` and ``inference_detector``/``inference_model``:
    what they were given, and the predictions of each image (by file name)."""

    def __init__(self, predictions, meta):
        self.predictions, self.inits, self.inputs = predictions, [], []
        self.model = types.SimpleNamespace(dataset_meta=meta)

    def init(self, cfg, checkpoint, device):
        self.inits.append((cfg, checkpoint, device))
        return self.model

    def detect(self, model, path):
        assert model is self.model  # the model built from the config and checkpoint
        self.inputs.append(path)
        boxes, labels, scores = zip(*self.predictions[os.path.basename(path)], strict=True)
        return types.SimpleNamespace(
            pred_instances=types.SimpleNamespace(
                bboxes=torch.tensor(boxes, dtype=torch.float32),
                labels=torch.tensor(labels),
                scores=torch.tensor(scores),
            )
        )

    def segment(self, model, image):
        assert model is self.model
        self.inputs.append(image)
        label = self.predictions[len(self.inputs) - 1]
        return types.SimpleNamespace(
            pred_sem_seg=types.SimpleNamespace(data=torch.from_numpy(label)[None])
        )


def write_config(path, **cfg):
    path.write_text(''.join(f'{k} = {v!r}\n' for k, v in cfg.items()))
    return str(path)


# grey stripes of 1 and 2 px: a 2x resize other than nearest (blending) changes them
PATTERN = np.full((40, 60, 3), 128, np.uint8)
PATTERN[:, ::3] = 90
PATTERN[1::2, :] += 20
GRID = PATTERN.repeat(2, axis=0).repeat(2, axis=1)  # each pixel as a 2x2 block


@pytest.fixture
def detection(tmp_path, monkeypatch):
    """9 60x40 images of PATTERN in a COCO set (one ground-truth box on the first), its config,
    a checkpoint file; mmdet's inference stood in: on the first image a 'circle' at 0.3, then a
    'square' at 0.9, on the others a circle at 0.01."""
    import mmdet.apis

    root = tmp_path / 'data'
    (root / 'img').mkdir(parents=True)
    images = [dict(id=i, file_name=f'{i}.png', width=60, height=40) for i in range(9)]
    for info in images:
        cv2.imwrite(str(root / 'img' / info['file_name']), PATTERN)
    annotations = [dict(id=1, image_id=0, bbox=[2, 3, 10, 8], category_id=0)]
    (root / 'ann.json').write_text(json.dumps(dict(images=images, annotations=annotations)))
    config = write_config(
        tmp_path / 'det.py',
        default_scope='mmdet',
        val_dataloader=dict(
            dataset=dict(data_root=str(root), ann_file='ann.json', data_prefix=dict(img='img/'))
        ),
    )
    predictions = {f'{i}.png': [([0, 0, 9, 9], 0, 0.01)] for i in range(9)}
    predictions['0.png'] = [([40, 30, 55, 38], 0, 0.3), ([20, 5, 35, 25], 1, 0.9)]
    inference = Inference(predictions, dict(classes=CLASSES, palette=PALETTE))
    monkeypatch.setattr(mmdet.apis, 'init_detector', inference.init)
    monkeypatch.setattr(mmdet.apis, 'inference_detector', inference.detect)
    checkpoint = tmp_path / 'iter_3.pth'
    checkpoint.write_text('')
    return dict(root=root, config=config, checkpoint=str(checkpoint), inference=inference)


def bgr(rgb):
    return tuple(reversed(rgb))


LEGEND = 3 * 20 + 6  # the legend strip's height: 3 lines


def drawn_by_hand(circle):
    """The first image at 2x, drawn with cv2 itself: the ground truth (2, 3, 10, 8) white over
    black; the square (20, 5, 35, 25) and, if shown, the circle (40, 30, 55, 38), 2 px of their
    colours over black, labelled with class and score above (at least 10 px from the top)."""
    tile = GRID.copy()
    cv2.rectangle(tile, (4, 6), (24, 22), BLACK, 3)
    cv2.rectangle(tile, (4, 6), (24, 22), WHITE, 1)
    shown = [((80, 60), (110, 76), PALETTE[0], 'circle 0.30', (80, 56))] * circle
    shown += [((40, 10), (70, 50), PALETTE[1], 'square 0.90', (40, 10))]
    font = cv2.FONT_HERSHEY_SIMPLEX
    for p0, p1, rgb, text, origin in shown:
        cv2.rectangle(tile, p0, p1, BLACK, 4)
        cv2.rectangle(tile, p0, p1, bgr(rgb), 2)
        cv2.putText(tile, text, origin, font, 0.35, BLACK, 3)
        cv2.putText(tile, text, origin, font, 0.35, bgr(rgb), 1)
    return tile


@pytest.mark.parametrize('score_thr, circle_shown', [(0.5, False), (0.3, True)])
def test_predictions_png_of_a_detector(detection, tmp_path, score_thr, circle_shown):
    """The legend, then the val images at 2x in rows of 4 (the last row padded with white):
    the ground truth in white over black, each prediction of at least the score threshold in
    its class's colour, with its class and score."""
    out = str(tmp_path / 'predictions.png')
    plot_predictions(detection['config'], detection['checkpoint'], out, 5, score_thr)
    inference = detection['inference']
    [(cfg, checkpoint, device)] = inference.inits
    assert (checkpoint, device) == (detection['checkpoint'], 'cpu')
    assert cfg.val_dataloader.dataset.ann_file == 'ann.json'
    root = str(detection['root'])
    assert inference.inputs == [os.path.join(root, 'img/', f'{i}.png') for i in range(5)]
    picture = cv2.imread(out)
    assert picture.shape == (LEGEND + 2 * 80, 4 * 120, 3)
    grid = picture[LEGEND:]
    assert np.array_equal(grid[:80, :120], drawn_by_hand(circle_shown))
    tiles = [grid[r : r + 80, c : c + 120] for r in (0, 80) for c in (0, 120, 240, 360)]
    assert all((tile == GRID).all() for tile in tiles[1:5])  # nothing shown at 0.01
    assert all((tile == 255).all() for tile in tiles[5:])  # the last row's blank tiles
    legend = picture[:LEGEND]
    assert all((legend == bgr(rgb)).all(axis=2).any() for rgb in PALETTE)  # its class colours


def test_predictions_png_of_a_segmenter(tmp_path, monkeypatch):
    """mmseg: per val image (in name order, up to ``num_images``) a column: the image, the
    predicted label map and the ground truth's in the palette's colours."""
    import mmseg.apis

    root = tmp_path / 'data'
    (root / 'img').mkdir(parents=True)
    (root / 'ann').mkdir()
    images, truths = {}, {}
    for index, name in enumerate(('b.png', 'a.png', 'c.png')):
        images[name] = np.full((6, 8, 3), 10 * index, np.uint8)
        truths[name] = np.zeros((6, 8), np.uint8)
        truths[name][:, index:] = 1
        cv2.imwrite(str(root / 'img' / name), images[name])
        cv2.imwrite(str(root / 'ann' / name), truths[name])
    config = write_config(
        tmp_path / 'seg.py',
        default_scope='mmseg',
        val_dataloader=dict(
            dataset=dict(data_root=str(root), data_prefix=dict(img_path='img', seg_map_path='ann'))
        ),
    )
    predictions = [np.ones((6, 8), np.int64), np.eye(6, 8, dtype=np.int64)]
    inference = Inference(predictions, dict(palette=[[255, 0, 0], [0, 255, 0]]))
    monkeypatch.setattr(mmseg.apis, 'init_model', inference.init)
    monkeypatch.setattr(mmseg.apis, 'inference_model', inference.segment)
    out = str(tmp_path / 'predictions.png')
    plot_predictions(config, 'ckpt.pth', out, num_images=2)
    [(cfg, checkpoint, device)] = inference.inits
    assert (checkpoint, device) == ('ckpt.pth', 'cpu') and cfg.filename == config
    assert [x.tolist() for x in inference.inputs] == [
        images['a.png'].tolist(),
        images['b.png'].tolist(),
    ]
    blue_green = np.array([[0, 0, 255], [0, 255, 0]], np.uint8)  # the palette in BGR
    expected = np.hstack(
        [
            np.vstack([images[name], blue_green[pred], blue_green[truths[name]]])
            for name, pred in zip(('a.png', 'b.png'), predictions, strict=True)
        ]
    )
    assert np.array_equal(cv2.imread(out), expected)


def test_plot_run_draws_both_pictures_from_the_saved_config_and_last_checkpoint(
    detection, tmp_path, capsys
):
    work_dir = tmp_path / 'work'
    write_runs(work_dir, {'20260101_000000': [{'step': 1, 'loss': 2.0}]})
    (work_dir / 'b.py').write_text(open(detection['config']).read())
    (work_dir / 'a.py').write_text(open(detection['config']).read())
    (work_dir / 'last_checkpoint').write_text(detection['checkpoint'] + '\n')
    curves, predictions = plot_run(str(work_dir), num_images=1)
    assert (curves, predictions) == (
        str(work_dir / 'curves.png'),
        str(work_dir / 'predictions.png'),
    )
    assert capsys.readouterr().out.splitlines()[-1] == f'wrote {curves} and {predictions}'
    assert cv2.imread(curves).shape == (400, 1000, 3)
    assert cv2.imread(predictions).shape[0] == LEGEND + 80
    inference = detection['inference']
    [(cfg, checkpoint, _)] = inference.inits
    assert checkpoint == detection['checkpoint'] and cfg.filename == str(work_dir / 'a.py')
    assert len(inference.inputs) == 1
    # a config and a checkpoint given: those, and 8 of the 9 images (the default)
    plot_run(str(work_dir), config=detection['config'], checkpoint='other.pth')
    (cfg, checkpoint, _) = inference.inits[-1]
    assert checkpoint == 'other.pth' and cfg.filename == detection['config']
    assert len(inference.inputs) == 1 + 8


def test_predictions_png_by_default_shows_8_images_and_scores_of_at_least_0_5(detection, tmp_path):
    out = str(tmp_path / 'predictions.png')
    plot_predictions(detection['config'], detection['checkpoint'], out)
    assert len(detection['inference'].inputs) == 8  # of the 9
    picture = cv2.imread(out)
    assert picture.shape == (LEGEND + 2 * 80, 4 * 120, 3)
    assert np.array_equal(picture[LEGEND : LEGEND + 80, :120], drawn_by_hand(circle=False))
