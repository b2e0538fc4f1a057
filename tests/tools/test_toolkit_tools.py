"""The toolkits' own tools (shipped inside the installed mmdet and mmseg packages, under
``<package>/.mim/tools/``: what ``mim train`` runs) train, evaluate and resume our configs with
their ``custom_imports`` alone. Nothing of ours runs but ``import se_backbones``: under torch >= 2.6
that import is what makes MMEngine's checkpoints loadable by test.py and ``--resume``."""

import glob
import importlib.util
import os
import re
import subprocess
import sys

import pytest
import torch

from se_backbones.data import make_toy_shapes
from tests.configs.toy import CONFIGS, TOY, toy_options, toy_test_options


def toolkit_tool(package, name):
    path = os.path.join(
        os.path.dirname(importlib.util.find_spec(package).origin), '.mim', 'tools', name
    )
    assert os.path.isfile(path), path
    return path


def run_tool(package, name, args, cwd, timeout=600):
    """Run the toolkit's tool in a fresh interpreter from an unrelated directory."""
    result = subprocess.run(
        [sys.executable, toolkit_tool(package, name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert 'Weights only load failed' not in log
    return log


def options(values):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in values.items()]


def finite_losses(log):
    losses = [float(v) for v in re.findall(r' loss: ([-\d.e+naif]+)', log)]
    assert losses and all(torch.isfinite(torch.tensor(losses))), losses
    return losses


def test_mmdet_train_test_and_resume(toy_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    train = options(toy_options(toy_root, work_dir, max_iters=2, val_interval=2))
    log = run_tool('mmdet', 'train.py', [TOY, *train], cwd=tmp_path)
    finite_losses(log)
    checkpoint = os.path.join(work_dir, 'iter_2.pth')
    assert os.path.exists(checkpoint)

    test_dir = str(tmp_path / 'test')
    log = run_tool(
        'mmdet',
        'test.py',
        [TOY, checkpoint, '--work-dir', test_dir, *options(toy_test_options(toy_root, test_dir))],
        cwd=tmp_path,
    )
    assert re.search(r'coco/bbox_mAP: -?\d+\.\d+', log), log[-2000:]

    resume = options(toy_options(toy_root, work_dir, max_iters=3, val_interval=2))
    log = run_tool('mmdet', 'train.py', [TOY, '--resume', *resume], cwd=tmp_path)
    assert 'resumed' in log.lower() and 'Iter(train) [3/3]' in log, log[-2000:]
    assert torch.load(os.path.join(work_dir, 'iter_3.pth'), weights_only=False)['meta']['iter'] == 3


@pytest.fixture(scope='module')
def toy_seg_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_seg_tools'))
    make_toy_shapes(root, num_train=4, num_val=2, size=64, task='seg')
    return root + '/'


def seg_options(root, work_dir, max_iters):
    values = {
        'work_dir': work_dir,
        'model.data_preprocessor.size': '(64,64)',
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1,
        'param_scheduler': '[]',
    }
    for split in ('train', 'val', 'test'):
        values.update(
            {
                f'{split}_dataloader.batch_size': 2,
                f'{split}_dataloader.num_workers': 0,
                f'{split}_dataloader.persistent_workers': False,
                f'{split}_dataloader.dataset.data_root': root,
            }
        )
    return values


def test_mmseg_train_test_and_resume(toy_seg_root, tmp_path):
    config = os.path.join(CONFIGS, 'toy', 'pspnet_se_r50-d8_toy.py')
    work_dir = str(tmp_path / 'work')
    log = run_tool(
        'mmseg',
        'train.py',
        [config, *options(seg_options(toy_seg_root, work_dir, 2))],
        cwd=tmp_path,
    )
    finite_losses(log)
    checkpoint = os.path.join(work_dir, 'iter_2.pth')
    assert os.path.exists(checkpoint)

    test_dir = str(tmp_path / 'test')
    log = run_tool(
        'mmseg',
        'test.py',
        [
            config,
            checkpoint,
            '--work-dir',
            test_dir,
            *options(seg_options(toy_seg_root, test_dir, 2)),
        ],
        cwd=tmp_path,
    )
    assert re.search(r'mIoU: \d+\.\d+', log), log[-2000:]

    log = run_tool(
        'mmseg',
        'train.py',
        [config, '--resume', *options(seg_options(toy_seg_root, work_dir, 3))],
        cwd=tmp_path,
    )
    assert 'resumed' in log.lower() and 'Iter(train) [3/3]' in log, log[-2000:]
    assert (
        sorted(os.path.basename(p) for p in glob.glob(os.path.join(work_dir, '*.pth')))[-1]
        == 'iter_3.pth'
    )
