"""Determinism and exact resume of tools/train.py on the toy set (Faster R-CNN SE-R50, CPU).

Run A and run B: the same seed and config, 20 iterations each, uninterrupted. Run C: the same,
SIGKILLed in the middle of an epoch (iteration 8 of 20, 4 iterations per epoch), then resumed
with --resume from its iteration-5 checkpoint. All three must give identical losses at every
iteration and bit-identical final weights and validation metrics.
"""
import glob
import json
import os
import random
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from se_backbones.engine.hooks import get_rng_states, set_rng_states
from tests.configs.toy import ROOT, TOY, toy_options

MAX_ITERS = 20


def train_command(data_root, work_dir, *extra):
    options = dict(toy_options(data_root, work_dir, max_iters=MAX_ITERS, val_interval=10),
                   **{'default_hooks.checkpoint.interval': 5,
                      'default_hooks.checkpoint.max_keep_ckpts': 1,  # 0.5 GB each
                      'log_processor.window_size': 1,
                      'randomness.deterministic': True})
    return [sys.executable, os.path.join(ROOT, 'tools', 'train.py'), TOY, *extra,
            '--cfg-options', *[f'{k}={v}' for k, v in options.items()]]


def train(data_root, work_dir, *extra):
    result = subprocess.run(train_command(data_root, work_dir, *extra), capture_output=True,
                            text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def train_and_kill(data_root, work_dir, at_iter):
    """Start a run and SIGKILL it once it has logged iteration ``at_iter``."""
    process = subprocess.Popen(train_command(data_root, work_dir), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    pattern = re.compile(rf'Iter\(train\) \[\s*{at_iter}/{MAX_ITERS}\]')
    lines = []
    for line in process.stdout:
        lines.append(line)
        if pattern.search(line):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, ''.join(lines[-50:])


def losses(work_dir):
    """iteration -> loss, over every run (log dir) in ``work_dir``; a resumed run's entries
    replace the killed run's for the iterations it repeats."""
    result = {}
    for path in sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        for line in open(path):
            entry = json.loads(line)
            if 'loss' in entry:
                result[entry['iter']] = entry['loss']
    return result


def final_metrics(work_dir):
    paths = sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json')))
    entries = [json.loads(line) for line in open(paths[-1])]
    final = [e for e in entries if 'coco/bbox_mAP' in e][-1]
    return {k: v for k, v in final.items() if not k.endswith('time')}


def weights(work_dir):
    checkpoint = torch.load(os.path.join(work_dir, f'iter_{MAX_ITERS}.pth'), weights_only=False)
    return checkpoint['state_dict']


@pytest.fixture(scope='module')
def runs(toy_root, tmp_path_factory):
    dirs = {name: str(tmp_path_factory.mktemp(f'run_{name}')) for name in 'ABC'}
    train(toy_root, dirs['A'])
    train(toy_root, dirs['B'])
    train_and_kill(toy_root, dirs['C'], at_iter=8)
    assert not os.path.exists(os.path.join(dirs['C'], f'iter_{MAX_ITERS}.pth'))
    assert os.path.exists(os.path.join(dirs['C'], 'iter_5.pth'))
    train(toy_root, dirs['C'], '--resume')
    return dirs


def test_same_seed_same_losses_for_20_iterations(runs):
    a, b = losses(runs['A']), losses(runs['B'])
    assert sorted(a) == list(range(1, MAX_ITERS + 1))
    assert a == b
    assert len(set(a.values())) > 10  # the losses do change: a real training run
    wa, wb = weights(runs['A']), weights(runs['B'])
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_sigkill_then_resume_ends_as_the_uninterrupted_run(runs):
    log = '\n'.join(open(p).read() for p in glob.glob(os.path.join(runs['C'], '*', '*.log')))
    assert 'resumed' in log.lower() and 'Advance dataloader 5 steps' in log
    assert losses(runs['C']) == losses(runs['A'])
    wa, wc = weights(runs['A']), weights(runs['C'])
    assert wa.keys() == wc.keys() and all(torch.equal(wa[k], wc[k]) for k in wa)
    assert final_metrics(runs['C']) == final_metrics(runs['A'])


def test_rng_states_round_trip_through_a_weights_only_checkpoint(tmp_path):
    """What the hook stores loads under weights_only=True and restores the same draws."""
    from se_backbones.engine.hooks import RNGStateHook
    hook, checkpoint = RNGStateHook(), {}
    torch.manual_seed(1)
    hook.before_save_checkpoint(None, checkpoint)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.save(checkpoint, tmp_path / 'c.pth')
    hook.after_load_checkpoint(None, torch.load(tmp_path / 'c.pth', weights_only=True))
    torch.manual_seed(2)
    set_rng_states(hook._resumed)
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(expected[0], again[0]) and (expected[1] == again[1]).all()
    assert expected[2] == again[2]
    assert set(get_rng_states()) == {'torch', 'numpy', 'python'}
