"""tools/demo.py without training (tests/tools/test_demo_and_plots.py trains): its options and
their defaults, what it gives build_runner, what it prints (the toy set line, the COCO table),
its error when no validation metric was logged, with stand-ins for the toy set's writer, the
runner, the log reader and the plots."""

import argparse
import os
import sys

import pytest

import se_backbones.data
import se_backbones.engine.runner
import se_backbones.engine.visualization
from tools import demo

# each metric its own value, rounded up or down at the 3rd decimal
FINAL = {
    'step': 7,
    'coco/bbox_mAP': 0.12345,
    'coco/bbox_mAP_50': 0.5,
    'coco/bbox_mAP_75': 0.0006,
    'coco/bbox_mAP_s': 1.0,
    'coco/bbox_mAP_m': 0.9994,
    'coco/bbox_mAP_l': 0.25061,
}
TABLE = (
    '\nFaster R-CNN SE-R50 on the toy val set after 7 iterations (COCO bbox metrics, '
    'pycocotools):\n'
    '| bbox_mAP | bbox_mAP_50 | bbox_mAP_75 | bbox_mAP_s | bbox_mAP_m | bbox_mAP_l |\n'
    '|---:|---:|---:|---:|---:|---:|\n'
    '| 0.123 | 0.500 | 0.001 | 1.000 | 0.999 | 0.251 |\n'
)


@pytest.fixture
def calls(monkeypatch):
    """Stand-ins for the heavy calls, each recording its arguments in order in ``calls``;
    ``calls.written`` is what make_toy_shapes returns, ``calls.val`` what read_scalars gives
    as the validation rows."""

    class Calls(list):
        written = True
        # three rows: the last is neither the first nor the second
        val = [dict(FINAL, step=step, **{'coco/bbox_mAP': 0.9}) for step in (3, 5)] + [FINAL]

    calls = Calls()

    def make_toy_shapes(*args, **kwargs):
        calls.append(('make_toy_shapes', args, kwargs))
        return calls.written

    class Runner:
        def train(self, *args, **kwargs):
            calls.append(('train', args, kwargs))

    def build_runner(*args, **kwargs):
        calls.append(('build_runner', args, kwargs))
        return Runner()

    def read_scalars(*args, **kwargs):
        calls.append(('read_scalars', args, kwargs))
        return [{'step': 1, 'loss': 2.0}], calls.val

    def plot_run(*args, **kwargs):
        calls.append(('plot_run', args, kwargs))

    monkeypatch.setattr(se_backbones.data, 'make_toy_shapes', make_toy_shapes)
    monkeypatch.setattr(se_backbones.engine.runner, 'build_runner', build_runner)
    monkeypatch.setattr(se_backbones.engine.visualization, 'read_scalars', read_scalars)
    monkeypatch.setattr(se_backbones.engine.visualization, 'plot_run', plot_run)
    return calls


def options(root):
    """The cfg_options the demo gives for the data root ``root`` (ending in '/')."""
    return {
        'train_dataloader.dataset.data_root': root,
        'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
        'val_evaluator.ann_file': root + 'annotations/instances_val.json',
        'test_evaluator.ann_file': root + 'annotations/instances_val.json',
    }


def runner_args(work_dir, cfg_options):
    return argparse.Namespace(
        config=demo.CONFIG, work_dir=work_dir, launcher='none', cfg_options=cfg_options
    )


def test_config_is_the_toy_faster_rcnn():
    assert demo.CONFIG == os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        'configs',
        'toy',
        'faster_rcnn_se_r50_toy.py',
    )
    assert os.path.isfile(demo.CONFIG)


@pytest.mark.parametrize('written', [True, False])
@pytest.mark.parametrize('slash', ['', '/', '//'])
def test_trains_prints_and_draws(calls, capsys, written, slash):
    """The whole run in order: the toy set (written or found), the runner with the data root
    (given with or without trailing '/'s) in every dataloader and evaluator, its training, the
    logs read, the table of the last val row printed, the plots of the work dir."""
    calls.written = written
    data_root = f'/somewhere/toy_X{slash}'  # ends in X: only '/'s are stripped
    final = demo.main(['--work-dir', '/runs/w', '--data-root', data_root])
    assert final is calls.val[-1]
    assert calls == [
        ('make_toy_shapes', (data_root,), {}),
        ('build_runner', (runner_args('/runs/w', options('/somewhere/toy_X/')),), {}),
        ('train', (), {}),
        ('read_scalars', ('/runs/w',), {}),
        ('plot_run', ('/runs/w',), {}),
    ]
    out, err = capsys.readouterr()
    line = f'toy shapes set {"written to" if written else "found in"} {data_root}\n'
    assert (out, err) == (line + TABLE, '')


def test_defaults(calls, capsys):
    """Without options: the toy set in data/toy_shapes, the run in
    work_dirs/faster_rcnn_se_r50_toy."""
    calls.written = False
    demo.main([])
    work_dir = 'work_dirs/faster_rcnn_se_r50_toy'
    assert calls == [
        ('make_toy_shapes', ('data/toy_shapes',), {}),
        ('build_runner', (runner_args(work_dir, options('data/toy_shapes/')),), {}),
        ('train', (), {}),
        ('read_scalars', (work_dir,), {}),
        ('plot_run', (work_dir,), {}),
    ]
    assert capsys.readouterr().out == 'toy shapes set found in data/toy_shapes\n' + TABLE


def test_main_reads_sys_argv(calls, monkeypatch, capsys):
    """``main()`` (as the script runs it) parses the command line."""
    monkeypatch.setattr(sys, 'argv', ['tools/demo.py', '--work-dir', 'w', '--data-root', 'd'])
    demo.main()
    assert [call[1] for call in calls if call[0] in ('make_toy_shapes', 'plot_run')] == [
        ('d',),
        ('w',),
    ]
    assert capsys.readouterr().out.startswith('toy shapes set written to d\n')


def test_cfg_options_override_the_data_roots(calls, capsys):
    """A user's --cfg-options are added to the demo's, and win over them."""
    demo.main(
        [
            '--work-dir',
            'w',
            '--data-root',
            'd/',
            '--cfg-options',
            'val_evaluator.ann_file=other.json',
            'train_dataloader.dataset.data_root=elsewhere/',
            'train_cfg.max_iters=5',
        ]
    )
    expected = dict(
        options('d/'),
        **{
            'val_evaluator.ann_file': 'other.json',
            'train_dataloader.dataset.data_root': 'elsewhere/',
            'train_cfg.max_iters': 5,
        },
    )
    assert calls[1] == ('build_runner', (runner_args('w', expected),), {})


def test_no_val_metrics_is_an_error(calls, capsys):
    """No val row logged (no detection above the score threshold): an error saying so, after
    the training, and no table nor plots."""
    calls.val = []
    with pytest.raises(RuntimeError) as error:
        demo.main(['--work-dir', '/runs/w', '--data-root', 'd'])
    assert str(error.value) == (
        '/runs/w: no COCO metrics were logged: the model made no detections above the score '
        'threshold'
    )
    assert [call[0] for call in calls] == [
        'make_toy_shapes',
        'build_runner',
        'train',
        'read_scalars',
    ]
    assert capsys.readouterr().out == 'toy shapes set written to d\n'


def test_help_is_the_docstring_and_each_options_help(calls, capsys, monkeypatch):
    """What ``tools/demo.py --help`` prints: the docstring's layout, and every option's help
    and default, word for word; nothing is run."""
    monkeypatch.setattr(sys, 'argv', ['tools/demo.py'])  # argparse's prog
    monkeypatch.setenv('COLUMNS', '1000')  # no line breaks in hyphenated names
    with pytest.raises(SystemExit) as exit:
        demo.main(['--help'])
    out, err = capsys.readouterr()
    assert (exit.value.code, err, calls) == (0, '', [])
    assert out.startswith('usage: demo.py [-h] [--work-dir WORK_DIR] [--data-root DATA_ROOT] ')
    assert demo.__doc__.strip() in out
    words = ' '.join(out.split())
    for text in (
        '--work-dir WORK_DIR logs, checkpoints, curves.png and predictions.png (default: '
        'work_dirs/faster_rcnn_se_r50_toy)',
        '--data-root DATA_ROOT the toy shapes set; generated there if missing (default: '
        'data/toy_shapes)',
        '--cfg-options KEY=VALUE [KEY=VALUE ...] override config settings',
    ):
        assert text in words, text
