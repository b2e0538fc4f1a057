"""The pictures of a run, drawn from logs written here (the end-to-end run of
tools/plot_results.py is tests/tools/test_plot_results.py): which rows are read, what each panel
shows, the drawing helpers' pixels."""

import json

import cv2
import matplotlib.figure
import numpy as np
import pytest

from se_backbones.engine.visualization import (
    legend_strip,
    outlined_rectangle,
    outlined_text,
    plot_curves,
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
    assert colour_at(strip, 0, 0) == WHITE and colour_at(strip, strip.shape[1] - 1, 65) == WHITE


def test_stack_padded_pads_with_white_on_the_right():
    narrow = np.zeros((2, 3, 3), np.uint8)
    wide = np.full((4, 5, 3), 7, np.uint8)
    stacked = stack_padded([narrow, wide])
    assert stacked.shape == (6, 5, 3)
    assert (stacked[:2, :3] == 0).all() and (stacked[:2, 3:] == 255).all()
    assert (stacked[2:] == 7).all()
