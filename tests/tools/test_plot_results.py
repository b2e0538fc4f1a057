"""tools/plot_results.py on a run of 3 iterations (shorter than the log interval):
validation is plotted at its iteration and predictions.png carries its legend; series with no
points are skipped and said so, not an IndexError."""

import argparse
import json
import os

import cv2
import pytest

from se_backbones.data import make_toy_shapes
from se_backbones.engine.runner import build_runner
from se_backbones.engine.visualization import plot_curves, read_scalars
from tests.configs.toy import TOY, toy_options
from tools.plot_results import main as plot_results


def test_plots_of_a_three_iteration_run(tmp_path, capsys):
    root = str(tmp_path / 'toy') + '/'
    make_toy_shapes(root, num_train=4, num_val=2, size=64)
    work_dir = str(tmp_path / 'work')
    options = dict(
        toy_options(root, work_dir, max_iters=3, val_interval=3),
        **{
            'default_hooks.logger.interval': 10,  # longer than the run
            'model.test_cfg.rcnn.score_thr': 0.0,
        },
    )
    build_runner(
        argparse.Namespace(config=TOY, work_dir=work_dir, launcher='none', cfg_options=options)
    ).train()
    _, val = read_scalars(work_dir)
    assert [row['step'] for row in val] == [3]  # logged at its iteration, not at 0

    curves, predictions = plot_results([work_dir, '--num-images', '2'])
    assert 'no validation metric' not in capsys.readouterr().out
    picture = cv2.imread(predictions)
    tiles = cv2.imread(os.path.join(root, 'val', os.listdir(os.path.join(root, 'val'))[0]))
    tile = 2 * tiles.shape[0]  # each val image drawn at 2x
    legend = 3 * 20 + 6  # three lines: ground truth, class colours, score threshold
    assert picture.shape[0] == legend + tile and picture.shape[1] >= 2 * tile
    assert cv2.imread(curves).shape[:2] == (400, 1000)


@pytest.mark.parametrize(
    'rows, missing',
    [
        ([], ['training loss', 'validation metric']),
        ([{'step': 1, 'loss': 2.0, 'lr': 0.1}], ['validation metric']),
        ([{'step': 0, 'coco/bbox_mAP': 0.1, 'coco/bbox_mAP_50': 0.2}], ['training loss']),
    ],
)
def test_empty_series_are_skipped_and_said(tmp_path, capsys, rows, missing):
    log = tmp_path / '20260101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    log.write_text(''.join(json.dumps(row) + '\n' for row in rows))
    plotted = plot_curves(str(tmp_path), str(tmp_path / 'curves.png'))
    out = capsys.readouterr().out
    assert [
        what for what in ('training loss', 'validation metric') if f'no {what} logged' in out
    ] == missing
    assert len(plotted) == sum(len(row) - 1 - ('lr' in row) for row in rows)
    assert os.path.getsize(tmp_path / 'curves.png') > 1000


@pytest.fixture
def plotted(monkeypatch):
    """The calls plot_run receives (stood in: the pictures are test_visualization's)."""
    import se_backbones.engine.visualization as visualization

    calls = []
    monkeypatch.setattr(visualization, 'plot_run', lambda *args: calls.append(args) or 'drawn')
    return calls


def test_the_command_line_passes_the_run_and_its_options(tmp_path, plotted):
    config, checkpoint = tmp_path / 'c.py', tmp_path / 'iter_3.pth'
    config.write_text('')
    checkpoint.write_text('')
    assert plot_results([str(tmp_path)]) == 'drawn'
    options = ['--config', str(config), '--checkpoint', str(checkpoint), '--num-images', '3']
    plot_results([str(tmp_path), *options])
    assert plotted == [
        (str(tmp_path), None, None, 8),
        (str(tmp_path), str(config), str(checkpoint), 3),
    ]


@pytest.mark.parametrize(
    'argv, message',
    [
        (['nowhere'], "work dir 'nowhere' does not exist"),
        (['.', '--config', 'no.py'], "--config 'no.py' does not exist"),
        (['.', '--checkpoint', 'no.pth'], "--checkpoint 'no.pth' does not exist"),
    ],
)
def test_a_missing_input_ends_with_one_line(argv, message, plotted, capsys):
    with pytest.raises(SystemExit) as exit_:
        plot_results(argv)
    assert exit_.value.code == 2 and not plotted
    assert capsys.readouterr().err == f'plot_results.py: error: {message}\n'
