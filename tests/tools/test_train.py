import argparse
import glob
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from se_backbones.engine.runner import build_runner
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


DDP_CONFIG = """
_base_ = '{root}/configs/toy/seresnet50_toy_cls.py'
# no random augmentation, BN statistics frozen (torch's SyncBatchNorm is GPU-only, so on CPU
# each process would normalise with its own half batch): what is left to compare is DDP's data
# sharding and gradient averaging against one process with the whole batch
model = dict(backbone=dict(norm_eval=True))
train_dataloader = dict(batch_size={batch}, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='{data}', pipeline=[
                            dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root='{data}'))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=6, val_interval=6)
# SGD: an update proportional to the gradient, so a wrong DDP average (e.g. a sum) shows;
# Adam's update would hide it (invariant to the gradient's scale)
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
param_scheduler = []
default_hooks = dict(checkpoint=dict(interval=6), logger=dict(interval=1))
"""


def free_port():
    """A TCP port free on this machine now (the OS picks it), for the DDP rendezvous: a fixed
    one fails when another run (a parallel CI job) holds it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('', 0))  # every interface, as the rendezvous store listens
        return s.getsockname()[1]


def test_free_port_gives_a_port_no_one_holds():
    first = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(('', first))
        held.listen()
        second = free_port()
        assert second != first
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(('', second))


def test_two_process_gloo_ddp_equals_one_process_with_the_whole_batch(tmp_path):
    """tools/dist_train.sh, 2 CPU processes (gloo) with 1 image each, ends with the weights of
    tools/train.py in one process with batches of 2, to float rounding."""
    from se_backbones.data import make_toy_shapes
    data = str(tmp_path / 'data')
    make_toy_shapes(data, num_train=8, num_val=4, size=64, task='cls')
    results = {}
    for name, batch in (('single', 2), ('ddp', 1)):
        config = tmp_path / f'{name}.py'
        config.write_text(DDP_CONFIG.format(root=ROOT, batch=batch, data=data + '/'))
        work_dir = str(tmp_path / name)
        if name == 'single':
            run_train([str(config), '--work-dir', work_dir])
        else:
            env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
                       OMP_NUM_THREADS='1')
            result = subprocess.run(
                ['bash', os.path.join(ROOT, 'tools', 'dist_train.sh'), str(config), '2',
                 '--work-dir', work_dir], capture_output=True, text=True, timeout=600,
                cwd=ROOT, env=env)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            log = open(glob.glob(os.path.join(work_dir, '*', '*.log'))[0]).read()
            assert 'Distributed training: True' in log and 'GPU number: 2' in log, log[:3000]
        results[name] = torch.load(os.path.join(work_dir, 'iter_6.pth'),
                                   weights_only=False)['state_dict']
    single, ddp = results['single'], results['ddp']
    assert single.keys() == ddp.keys()
    scalars = glob.glob(os.path.join(str(tmp_path / 'single'), '*', 'vis_data', 'scalars.json'))
    train_losses = [json.loads(line)['loss'] for line in open(scalars[0]) if '"loss"' in line]
    assert len(train_losses) == 6 and len(set(train_losses)) == 6  # it does train
    a, b = (torch.cat([w[k].float().flatten() for k in single]) for w in (single, ddp))
    assert (a - b).norm() / a.norm() < 1e-6
    assert (a - b).abs().max() < 1e-5


@pytest.mark.skipif(torch.cuda.is_available(), reason='MMEngine AMP works with a GPU')
def test_amp_without_a_gpu_is_one_clear_error(tmp_path):
    args = argparse.Namespace(config=TOY, amp=True, launcher='none', work_dir=str(tmp_path),
                              cfg_options=None)
    with pytest.raises(ValueError, match="--amp: MMEngine's AmpOptimWrapper needs a GPU"):
        build_runner(args)
