"""Every tool answers --help before its heavy imports, with help text and the default of every
option, and ends with one line (no traceback) when an input file is missing."""

import argparse
import glob
import importlib
import os
import subprocess
import sys

import pytest

from tests.configs.toy import ROOT

TOOLS = sorted(
    os.path.splitext(os.path.basename(p))[0]
    for p in glob.glob(os.path.join(ROOT, 'tools', '*.py'))
    if os.path.basename(p) not in ('__init__.py', 'cli.py', 'measure.py')
)
HEAVY = ('torch', 'mmengine', 'mmdet', 'se_backbones')

PROBE = """
import runpy, sys
sys.argv = [sys.argv[1], '--help']
try:
    runpy.run_path(sys.argv[0], run_name='__main__')
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print(' '.join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize('tool', TOOLS)
def test_help_comes_before_the_heavy_imports(tool):
    script = os.path.join(ROOT, 'tools', f'{tool}.py')
    result = subprocess.run(
        [sys.executable, '-c', PROBE.format(heavy=HEAVY), script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    *_, imported = result.stdout.splitlines() or ['']
    assert imported == '', f'{tool} --help imported {imported}'
    assert 'usage:' in result.stdout


@pytest.mark.parametrize('tool', TOOLS)
def test_every_option_has_help_and_shows_its_default(tool, monkeypatch):
    module = importlib.import_module(f'tools.{tool}')
    parsers = []

    def capture(self, *args, **kwargs):
        parsers.append(self)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, 'parse_args', capture)
    with pytest.raises(SystemExit):
        (getattr(module, 'parse_args', None) or module.main)([])
    (parser,) = parsers
    assert issubclass(parser.formatter_class, argparse.ArgumentDefaultsHelpFormatter)
    undocumented = [a.dest for a in parser._actions if a.dest != 'help' and not a.help]
    assert undocumented == []


@pytest.mark.parametrize(
    'tool, args, message',
    [
        ('train', ['missing.py'], "train.py: error: config file 'missing.py' does not exist"),
        (
            'test',
            [os.path.join('configs', 'faster_rcnn_se_r50.py'), 'missing.pth'],
            "test.py: error: checkpoint 'missing.pth' does not exist",
        ),
        (
            'convert_timm',
            ['seresnet50', 'missing.pth', 'out.pth'],
            "convert_timm.py: error: timm checkpoint 'missing.pth' does not exist",
        ),
        (
            'plot_results',
            ['missing_dir'],
            "plot_results.py: error: work dir 'missing_dir' does not exist",
        ),
        (
            'make_se_config',
            ['missing.py', 'out.py', '--arch', 'se_r50'],
            "make_se_config.py: error: base config 'missing.py' does not exist",
        ),
    ],
)
def test_a_missing_input_file_is_one_line(tool, args, message):
    result = subprocess.run(
        [sys.executable, os.path.join('tools', f'{tool}.py'), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [message]


def test_a_dataset_that_is_not_there_is_named_before_anything_is_built(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, 'tools', 'train.py'),
            os.path.join(ROOT, 'configs', 'faster_rcnn_se_r50.py'),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        'train.py: error: the train data is not where the config expects '
        'it: data/coco/annotations/instances_train2017.json does not exist'
    )
    assert 'train_dataloader.dataset.data_root=' in last
    # what an installed package has (a pip user has no tools/demo.sh)
    assert 'python -m se_backbones.data.toy_shapes data/toy_shapes' in last
    assert 'tools/' not in last.split('does not exist')[1]
    assert 'Traceback' not in result.stderr and 'SEResNet' not in result.stdout


@pytest.mark.parametrize(
    'config, command',
    [
        ('faster_rcnn_se_r50_toy.py', 'python -m se_backbones.data.toy_shapes data/toy_shapes'),
        (
            'pspnet_se_r50-d8_toy.py',
            'python -m se_backbones.data.toy_shapes data/toy_shapes_seg --task seg',
        ),
        (
            'seresnet50_toy_cls.py',
            'python -m se_backbones.data.toy_shapes data/toy_shapes_cls --task cls',
        ),
    ],
)
def test_a_missing_toy_set_names_the_command_that_makes_it(config, command, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, 'tools', 'train.py'),
            os.path.join(ROOT, 'configs', 'toy', config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 1 and last.endswith(command), last


# --- tools/cli.py in-process ------------------------------------------------------------------


def test_die_is_one_line_on_stderr_and_exit_status_2(capsys):
    from tools.cli import die

    with pytest.raises(SystemExit) as exit:
        die('x.py', 'what went wrong')
    assert exit.value.code == 2
    assert capsys.readouterr() == ('', 'x.py: error: what went wrong\n')


def test_require_file_names_a_missing_or_unreadable_file(tmp_path, capsys, monkeypatch):
    from tools.cli import require_file

    path = tmp_path / 'a.pth'
    with pytest.raises(SystemExit) as exit:
        require_file('x.py', str(path), 'checkpoint')
    assert exit.value.code == 2
    assert capsys.readouterr().err == f'x.py: error: checkpoint {str(path)!r} does not exist\n'
    path.write_text('')
    assert require_file('x.py', str(path), 'checkpoint') is None
    # root reads anything: what a user without the permission sees
    monkeypatch.setattr(os, 'access', lambda p, mode: not (p == str(path) and mode == os.R_OK))
    with pytest.raises(SystemExit) as exit:
        require_file('x.py', str(path), 'checkpoint')
    assert exit.value.code == 2
    assert capsys.readouterr().err == f'x.py: error: checkpoint {str(path)!r} is not readable\n'


def test_the_parser_keeps_the_docstrings_layout_and_shows_defaults():
    from tools.cli import parser

    p = parser('Title.\n\n    python x.py A  [--n N]\n', prog='x.py')
    p.add_argument('--n', type=int, default=3, help='a number')
    text = p.format_help()
    assert text.startswith('usage: x.py [-h] [--n N]\n\nTitle.\n\n    python x.py A  [--n N]\n')
    assert 'a number (default: 3)' in ' '.join(text.split())


def test_runner_options_and_local_rank(monkeypatch):
    from tools.cli import add_runner_args, parse_runner_args, parser

    p = parser('t', prog='t.py')
    add_runner_args(p)
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = parse_runner_args(p, [])
    assert (args.work_dir, args.cfg_options, args.launcher, args.local_rank) == (
        None,
        {},
        'none',
        0,
    )
    assert os.environ['LOCAL_RANK'] == '0'
    monkeypatch.delenv('LOCAL_RANK')
    args = parse_runner_args(
        p,
        [
            '--work-dir',
            'w',
            '--launcher',
            'pytorch',
            '--local-rank',
            '2',
            '--cfg-options',
            'a=1',
            'b.c=x,y',
        ],
    )
    assert (args.work_dir, args.launcher, args.local_rank) == ('w', 'pytorch', 2)
    assert args.cfg_options == {'a': 1, 'b.c': ['x', 'y']} and os.environ['LOCAL_RANK'] == '2'
    assert parse_runner_args(p, ['--local_rank', '5']).local_rank == 5
    assert os.environ['LOCAL_RANK'] == '2'  # torchrun's own setting wins
    with pytest.raises(SystemExit):
        parse_runner_args(p, ['--launcher', 'ssh'])


RUNNER_HELP = (
    '--work-dir WORK_DIR where logs and checkpoints go; default: ./work_dirs/<config name> '
    '(default: None)',
    '--cfg-options KEY=VALUE [KEY=VALUE ...] override config settings, e.g. '
    "train_cfg.max_iters=100 'model.backbone.depth=101' (MMEngine's DictAction) (default: {})",
    '--launcher {none,pytorch,slurm,mpi} job launcher (pytorch: torchrun) (default: none)',
    '--local_rank LOCAL_RANK, --local-rank LOCAL_RANK set by older launchers; torchrun sets '
    'LOCAL_RANK instead (default: 0)',
)


@pytest.mark.parametrize(
    'tool, texts',
    [
        (
            'train',
            (
                *RUNNER_HELP,
                'config train config file path',
                "--amp automatic mixed precision (MMEngine's AmpOptimWrapper: GPU only) "
                '(default: False)',
                '--auto-scale-lr scale the learning rate by the total batch size '
                '(auto_scale_lr.base_batch_size of the config, else 16) (default: False)',
                '--resume [RESUME] resume from this checkpoint, or without a value from the '
                'latest one in the work dir (default: None)',
            ),
        ),
        (
            'test',
            (
                *RUNNER_HELP,
                'config test config file path',
                'checkpoint checkpoint file',
                '--out OUT dump the predictions to this pickle file (default: None)',
            ),
        ),
        (
            'convert_timm',
            (
                "model_name timm name, e.g. 'seresnet50.a1_in1k'",
                'src timm state dict (.pth, .bin, .safetensors)',
                'dst output MMEngine checkpoint (.pth)',
                '--classifier keep the classifier: write an mmpretrain ImageClassifier '
                '(default: False)',
            ),
        ),
        (
            'summary',
            (
                '--input-size INPUT_SIZE input height and width (default: 224)',
                "--variants also the SE-ResNet-50 variants, with the papers' figures "
                '(default: False)',
                '--json JSON also write the rows to this JSON file (default: None)',
            ),
        ),
        (
            'benchmark',
            (
                '--device {cpu,cuda} where the models run (default: cpu)',
                '--amp {bf16,fp16} autocast to this dtype (None: float32) (default: None)',
                '--batch BATCH images per step (default: 4)',
                '--size SIZE input size: one number (square) or HxW, e.g. 800x1216 (default: 224)',
                '--threads THREADS torch CPU threads (default: 2)',
                '--rounds ROUNDS interleaved rounds (every model once per round) (default: 5)',
                '--modes MODE [MODE ...] modes to measure, in one table: eager, eager-cl, '
                'compile, compile-cl (-cl: channels_last; compile: torch.compile, inductor) '
                "(default: ['eager'])",
                '--models MODEL [MODEL ...] models to compare: ours-se-r50, timm-seresnet50, '
                'mmpretrain-seresnet50, mmdet-resnet50, ours-se-off-r50, ours-se-r18, '
                'mmdet-resnet18, ours-se-x50, timm-seresnext50-32x4d, '
                'mmpretrain-seresnext50-32x4d, mmdet-resnext50-32x4d (ours-se-off-r50: ours '
                'with SE off in every stage, i.e. a plain ResNet-50) (default: '
                "['ours-se-r50', 'timm-seresnet50', 'mmpretrain-seresnet50', 'mmdet-resnet50', "
                "'ours-se-x50', 'timm-seresnext50-32x4d', 'mmpretrain-seresnext50-32x4d', "
                "'mmdet-resnext50-32x4d'])",
                '--detector-size DETECTOR_SIZE also time Faster R-CNN SE-R50 vs R50 inference '
                'on one image of this size (e.g. 512); 0: no (default: 0)',
                '--detector-train also time a Faster R-CNN FPN train step, SE-R50 vs R50 (the '
                'toy configs, batch 4 of 128x128, the same weights but for SE) (default: False)',
                '--profile profile ours vs the plain ResNet per operator (eager) (default: False)',
                "--kernels list inductor's kernels for one SE and one plain bottleneck "
                '(default: False)',
                '--json JSON also write the results to this JSON file (default: None)',
            ),
        ),
        (
            'benchmark_coco',
            (
                'CFG detector configs',
                '--checkpoints CKPT [CKPT ...] one checkpoint per config, in the same order '
                '(default: None)',
                '--max-images MAX_IMAGES evaluate the first N test images only (None: all) '
                '(default: None)',
                '--work-dir WORK_DIR logs of each evaluation go to WORK_DIR/<config name> '
                '(default: work_dirs/benchmark_coco)',
                RUNNER_HELP[1],
                '--json JSON also write the rows to this JSON file (default: None)',
            ),
        ),
        (
            'demo',
            (
                '--work-dir WORK_DIR logs, checkpoints, curves.png and predictions.png '
                '(default: work_dirs/faster_rcnn_se_r50_toy)',
                '--data-root DATA_ROOT the toy shapes set; generated there if missing '
                '(default: data/toy_shapes)',
                RUNNER_HELP[1],
            ),
        ),
        (
            'plot_results',
            (
                'work_dir the work dir of a run (tools/train.py or the demo)',
                '--config CONFIG default: the config file saved in WORK_DIR (default: None)',
                '--checkpoint CHECKPOINT default: WORK_DIR/last_checkpoint (default: None)',
                '--num-images NUM_IMAGES val images in predictions.png (default: 8)',
            ),
        ),
    ],
)
def test_help_is_the_docstring_and_each_options_help(tool, texts, capsys, monkeypatch):
    """What ``tools/<tool>.py --help`` prints (in-process): the docstring's layout, and every
    option's help and default, word for word."""
    module = importlib.import_module(f'tools.{tool}')
    monkeypatch.setattr(sys, 'argv', [os.path.join('tools', f'{tool}.py')])  # argparse's prog
    monkeypatch.setenv('COLUMNS', '1000')  # no line breaks in hyphenated names
    with pytest.raises(SystemExit) as exit:
        (getattr(module, 'parse_args', None) or module.main)(['--help'])
    out, err = capsys.readouterr()
    assert (exit.value.code, err) == (0, '') and out.startswith(f'usage: {tool}.py ')
    assert module.__doc__.strip() in out
    words = ' '.join(out.split())
    for text in texts:
        assert text in words, text
