"""Determinism and exact resume of tools/train.py on the toy set (Faster R-CNN SE-R50, CPU).

Three processes, 6 Faster R-CNN iterations in all (in-process checks of the same hook on a tiny
model, in both MMEngine loops: test_rng_isolation.py):

- run A: 3 iterations uninterrupted, 3 per epoch; a checkpoint and a validation at iteration 2
  and at the end (the checkpoint hook runs first, so the iteration-2 checkpoint holds the random
  states from before that validation);
- run C: the same seed and config, SIGKILLed once it has logged the iteration-2 validation's
  metrics (mid-epoch, before iteration 3), then resumed with --resume from iter_2.pth.

Determinism: C's first process logs the same losses as A for iterations 1 and 2 and writes a
bit-identical iter_2.pth. Resume: C ends as A, at every iteration's loss, in the final weights
and validation metrics. A validated between its iteration-2 checkpoint and iteration 3, C's
resumed process did not: they agree only if validation leaves the training random stream as it
found it (RNGStateHook.before_val/after_val), as well as the resume restoring it; the final
validation (iteration 3) falls inside the resumed window.
"""

import glob
import json
import os
import random
import re
import signal
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from se_backbones.engine.hooks import RNGStateHook, get_rng_states, set_rng_states
from tests.configs.toy import ROOT, TOY, toy_options

MAX_ITERS, INTERVAL = 3, 2


def train_command(data_root, work_dir, *extra):
    options = dict(
        toy_options(data_root, work_dir, max_iters=MAX_ITERS, val_interval=INTERVAL, num_train=6),
        **{
            'default_hooks.checkpoint.interval': INTERVAL,
            'default_hooks.checkpoint.max_keep_ckpts': 2,  # 0.5 GB each
            'log_processor.window_size': 1,
            'randomness.deterministic': True,
        },
    )
    return [
        sys.executable,
        os.path.join(ROOT, 'tools', 'train.py'),
        TOY,
        *extra,
        '--cfg-options',
        *[f'{k}={v}' for k, v in options.items()],
    ]


def train(data_root, work_dir, *extra):
    result = subprocess.run(
        train_command(data_root, work_dir, *extra),
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def train_and_kill(data_root, work_dir):
    """Start a run and SIGKILL it once it has logged its first validation's metrics."""
    process = subprocess.Popen(
        train_command(data_root, work_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    pattern = re.compile(r'Iter\(val\) \[1/1\]\s+coco/bbox_mAP: ')
    lines = []
    for line in process.stdout:
        lines.append(line)
        if pattern.search(line):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, ''.join(lines[-50:])


def scalars(work_dir):
    """The scalars.json of each run (log dir) in ``work_dir``, oldest first."""
    return sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json')))


def losses(work_dir):
    """iteration -> loss, over every run (log dir) in ``work_dir``; a resumed run's entries
    replace the killed run's for the iterations it repeats."""
    result = {}
    for path in scalars(work_dir):
        for line in open(path):
            entry = json.loads(line)
            if 'loss' in entry:
                result[entry['iter']] = entry['loss']
    return result


def final_metrics(work_dir):
    entries = [json.loads(line) for line in open(scalars(work_dir)[-1])]
    final = [e for e in entries if 'coco/bbox_mAP' in e][-1]
    return {k: v for k, v in final.items() if not k.endswith('time')}


def weights(work_dir, iteration=MAX_ITERS):
    checkpoint = torch.load(os.path.join(work_dir, f'iter_{iteration}.pth'), weights_only=False)
    return checkpoint['state_dict']


def equal(wa, wb):
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.fixture(scope='module')
def runs(toy_root, tmp_path_factory):
    dirs = {name: str(tmp_path_factory.mktemp(f'run_{name}')) for name in 'AC'}
    train(toy_root, dirs['A'])
    train_and_kill(toy_root, dirs['C'])
    assert not os.path.exists(os.path.join(dirs['C'], f'iter_{MAX_ITERS}.pth'))
    assert os.path.exists(os.path.join(dirs['C'], f'iter_{INTERVAL}.pth'))
    first = {}
    for line in open(scalars(dirs['C'])[0]):
        entry = json.loads(line)
        if 'loss' in entry:
            first[entry['iter']] = entry['loss']
    dirs['C_killed_losses'] = first
    dirs['C_checkpoint'] = weights(dirs['C'], INTERVAL)  # before the resumed run
    train(toy_root, dirs['C'], '--resume')
    return dirs


def test_same_seed_same_losses_and_weights_in_two_processes(runs):
    a, killed = losses(runs['A']), runs['C_killed_losses']
    assert sorted(a) == list(range(1, MAX_ITERS + 1))
    assert sorted(killed) == list(range(1, INTERVAL + 1))
    assert killed == {i: a[i] for i in killed}
    assert len(set(a.values())) == MAX_ITERS  # the losses do change: a real training run
    assert equal(weights(runs['A'], INTERVAL), runs['C_checkpoint'])


def test_sigkill_then_resume_across_a_validation_ends_as_the_uninterrupted_run(runs):
    log = '\n'.join(open(p).read() for p in glob.glob(os.path.join(runs['C'], '*', '*.log')))
    assert 'resumed' in log.lower() and f'Advance dataloader {INTERVAL} steps' in log
    c = losses(runs['C'])
    assert sorted(c) == list(range(1, MAX_ITERS + 1))
    assert c == losses(runs['A'])
    assert equal(weights(runs['A']), weights(runs['C']))
    # A validated at iterations 2 and 3, the resumed process only at 3
    validations = [
        [json.loads(line)['step'] for line in open(path) if 'coco/bbox_mAP' in line]
        for path in (scalars(runs['A'])[0], scalars(runs['C'])[-1])
    ]
    assert validations == [[INTERVAL, MAX_ITERS], [MAX_ITERS]]
    assert final_metrics(runs['C']) == final_metrics(runs['A'])


def test_rng_states_round_trip_through_a_weights_only_checkpoint(tmp_path):
    """What the hook stores loads under weights_only=True and restores the same draws."""
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


# RNGStateHook in-process, with a stand-in for MMEngine's runner and loops (what the hook reads:
# runner.train_loop, its dataloader_iterator and iter)


def seed_all(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def draws():
    return torch.rand(2).tolist(), np.random.rand(2).tolist(), [random.random(), random.random()]


def saved_states(seed):
    """A checkpoint written by the hook after seeding ``seed``, and the draws that followed."""
    hook, checkpoint = RNGStateHook(), {}
    seed_all(seed)
    hook.before_save_checkpoint(None, checkpoint)
    return checkpoint, draws()


def iter_runner(batches, done):
    loop = SimpleNamespace(dataloader_iterator=iter(batches), iter=done)
    return SimpleNamespace(train_loop=loop)


@pytest.mark.parametrize('done', [0, 1, 3])
def test_an_iteration_based_resume_restores_the_states_after_the_replayed_batches(done):
    """MMEngine replays ``iter`` batches on resume; the states come back right after them,
    once, and every batch passes through unchanged."""
    checkpoint, expected = saved_states(7)
    hook = RNGStateHook()
    hook.after_load_checkpoint(None, checkpoint)
    runner = iter_runner(range(10), done)
    torch.manual_seed(99)
    hook.before_train(runner)
    loader = runner.train_loop.dataloader_iterator
    assert [next(loader) for _ in range(done)] == list(range(done))
    replay = draws()  # the replay's own draws (the data pipeline's)
    assert replay != expected
    assert next(loader) == done  # the batch of the first resumed iteration
    assert draws() == expected
    assert next(loader) == done + 1
    assert draws() != expected  # not restored again
    hook.before_train(runner)  # a second train() call: nothing left to restore
    assert runner.train_loop.dataloader_iterator is loader


def test_an_epoch_based_resume_restores_the_states_at_once():
    checkpoint, expected = saved_states(5)
    hook = RNGStateHook()
    hook.after_load_checkpoint(None, checkpoint)
    runner = SimpleNamespace(train_loop=SimpleNamespace(iter=8))  # no dataloader_iterator
    torch.manual_seed(1)
    hook.before_train(runner)
    assert draws() == expected
    hook.before_train(runner)  # once
    assert draws() != expected


def test_without_saved_states_training_starts_from_the_seed():
    """A checkpoint of a run without the hook, or a fresh run: the states are left alone."""
    hook = RNGStateHook()
    hook.after_load_checkpoint(None, {'meta': {}})
    runner = iter_runner(range(3), 1)
    loader = runner.train_loop.dataloader_iterator
    seed_all(3)
    expected = draws()
    seed_all(3)
    hook.before_train(runner)
    assert runner.train_loop.dataloader_iterator is loader
    assert [next(loader) for _ in range(3)] == [0, 1, 2]
    assert draws() == expected


def test_validation_draws_nothing_from_the_training_stream():
    hook = RNGStateHook()
    seed_all(4)
    hook.after_val(None)  # a new hook's after_val (no before_val yet): nothing to put back
    expected = draws()
    seed_all(4)
    hook.before_val(None)
    validation = draws()
    hook.after_val(None)
    assert draws() == expected and validation == expected
    hook.after_val(None)  # an after_val with no before_val: nothing to put back
    assert draws() != expected
