import argparse
import glob
import os
import subprocess
import sys

import pytest
import torch

from se_backbones.runner import build_runner
from tests.configs.toy import ROOT, TOY, toy_options, toy_test_options
from tools import test as test_tool


def cfg_options(options):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]


def run_train(args, timeout=600):
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'train.py'), *args],
                            capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_train_then_resume_from_the_last_checkpoint(toy_root, tmp_path):
    work_dir = str(tmp_path)
    run_train([TOY, *cfg_options(toy_options(toy_root, work_dir, max_iters=2, val_interval=2))])
    assert os.path.exists(os.path.join(work_dir, 'iter_2.pth'))
    # resuming loads the optimizer, schedulers and message hub under weights_only=True
    log = run_train([TOY, '--resume', *cfg_options(
        toy_options(toy_root, work_dir, max_iters=4, val_interval=2))])
    assert 'resumed' in log.lower() and 'Iter(train) [3/4]' in log
    checkpoint = torch.load(os.path.join(work_dir, 'iter_4.pth'), weights_only=False)
    assert checkpoint['meta']['iter'] == 4 and 'optimizer' in checkpoint

    # tools/test.py evaluates that checkpoint and dumps the predictions
    options = toy_test_options(toy_root, str(tmp_path / 'test'))
    out = str(tmp_path / 'predictions.pkl')
    metrics = test_tool.main([TOY, os.path.join(work_dir, 'iter_4.pth'), '--out', out,
                              '--work-dir', str(tmp_path / 'test'), *cfg_options(options)])
    assert set(metrics) >= {'coco/bbox_mAP', 'coco/bbox_mAP_50'} and os.path.getsize(out) > 0


def test_dist_train_two_processes_gloo(toy_root, tmp_path):
    """tools/dist_train.sh: torchrun with 2 CPU processes (gloo) runs a few iterations."""
    work_dir = str(tmp_path)
    options = toy_options(toy_root, work_dir, max_iters=2, val_interval=2)
    env = dict(os.environ, PYTHON=sys.executable, PORT='29517', OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', os.path.join(ROOT, 'tools', 'dist_train.sh'), TOY, '2', *cfg_options(options)],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert os.path.exists(os.path.join(work_dir, 'iter_2.pth'))
    log = open(glob.glob(os.path.join(work_dir, '*', '*.log'))[0]).read()
    assert "'world_size': 2" in log or 'world_size: 2' in log or 'Distributed training: True' in log


@pytest.mark.skipif(torch.cuda.is_available(), reason='MMEngine AMP works with a GPU')
def test_amp_without_a_gpu_is_one_clear_error(tmp_path):
    args = argparse.Namespace(config=TOY, amp=True, launcher='none', work_dir=str(tmp_path),
                              cfg_options=None)
    with pytest.raises(ValueError, match="--amp: MMEngine's AmpOptimWrapper needs a GPU"):
        build_runner(args)
