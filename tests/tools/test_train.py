import argparse
import glob
import json
import math
import os
import re
import socket
import subprocess
import sys

import pytest
import torch

from se_backbones.engine.runner import build_runner
from tests.configs.toy import ROOT, TOY, TrainStepProbe, toy_options, toy_test_options
from tools import test as test_tool
from tools import train as train_tool

CLS = os.path.join(ROOT, 'configs', 'toy', 'seresnet50_toy_cls.py')
SEG = os.path.join(ROOT, 'configs', 'toy', 'pspnet_se_r50-d8_toy.py')


def cfg_options(options):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]


def run_train(args, timeout=600):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'train.py'), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_train_then_resume_from_the_last_checkpoint(toy_root, tmp_path):
    work_dir = str(tmp_path)
    run_train([TOY, *cfg_options(toy_options(toy_root, work_dir, max_iters=2, val_interval=2))])
    assert os.path.exists(os.path.join(work_dir, 'iter_2.pth'))
    # resuming loads the optimizer, schedulers and message hub under weights_only=True
    log = run_train(
        [
            TOY,
            '--resume',
            *cfg_options(toy_options(toy_root, work_dir, max_iters=4, val_interval=2)),
        ]
    )
    assert 'resumed' in log.lower() and 'Iter(train) [3/4]' in log
    checkpoint = torch.load(os.path.join(work_dir, 'iter_4.pth'), weights_only=False)
    assert checkpoint['meta']['iter'] == 4 and 'optimizer' in checkpoint
    # it trained: finite losses at every iteration, weights moved between iterations 2 and 4
    scalars = glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json'))
    losses = {
        e['iter']: e['loss'] for path in scalars for e in map(json.loads, open(path)) if 'loss' in e
    }
    assert sorted(losses) == [1, 2, 3, 4] and all(math.isfinite(v) for v in losses.values())
    before = torch.load(os.path.join(work_dir, 'iter_2.pth'), weights_only=False)['state_dict']
    after = checkpoint['state_dict']
    assert all(after[k].isfinite().all() for k in after if after[k].is_floating_point())
    assert max(float((after[k].float() - before[k].float()).abs().max()) for k in after) > 1e-4

    # tools/test.py evaluates that checkpoint and dumps the predictions
    options = toy_test_options(toy_root, str(tmp_path / 'test'))
    out = str(tmp_path / 'predictions.pkl')
    metrics = test_tool.main(
        [
            TOY,
            os.path.join(work_dir, 'iter_4.pth'),
            '--out',
            out,
            '--work-dir',
            str(tmp_path / 'test'),
            *cfg_options(options),
        ]
    )
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
            env = dict(
                os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1'
            )
            result = subprocess.run(
                [
                    'bash',
                    os.path.join(ROOT, 'tools', 'dist_train.sh'),
                    str(config),
                    '2',
                    '--work-dir',
                    work_dir,
                ],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=ROOT,
                env=env,
            )
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            log = open(glob.glob(os.path.join(work_dir, '*', '*.log'))[0]).read()
            assert 'Distributed training: True' in log and 'GPU number: 2' in log, log[:3000]
        results[name] = torch.load(os.path.join(work_dir, 'iter_6.pth'), weights_only=False)[
            'state_dict'
        ]
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
    args = argparse.Namespace(
        config=TOY, amp=True, launcher='none', work_dir=str(tmp_path), cfg_options=None
    )
    with pytest.raises(ValueError, match="--amp: MMEngine's AmpOptimWrapper needs a GPU"):
        build_runner(args)


def cls_options(data_root, work_dir, max_iters):
    """--cfg-options for configs/toy/seresnet50_toy_cls.py: batches of 2 from ``data_root``,
    a checkpoint every iteration, a constant learning rate."""
    options = {
        'work_dir': work_dir,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'param_scheduler': [],
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.checkpoint.max_keep_ckpts': 3,
        'default_hooks.logger.interval': 1,
        'log_processor.window_size': 1,
    }
    for split in ('train', 'val', 'test'):
        options.update(
            {
                f'{split}_dataloader.dataset.data_root': data_root,
                f'{split}_dataloader.batch_size': 2,
                f'{split}_dataloader.num_workers': 0,
                f'{split}_dataloader.persistent_workers': False,
            }
        )
    return options


def train_in_process(argv):
    """tools/train.py's parsing and Runner, with a TrainStepProbe registered: (runner, probe);
    the probe has checked the run trained (finite losses, every module moved)."""
    runner = build_runner(train_tool.parse_args(argv), tool='train.py', splits=('train', 'val'))
    probe = TrainStepProbe()
    runner.register_hook(probe)
    runner.train()
    probe.check(runner, min_step=1e-6)
    return runner, probe


@pytest.fixture(scope='module')
def cls_run(tmp_path_factory):
    """2 iterations of the toy SE-R50 classifier on a 64x64 toy set, a checkpoint at each."""
    from se_backbones.data import make_toy_shapes

    tmp = tmp_path_factory.mktemp('cls_run')
    data = str(tmp / 'data') + '/'
    make_toy_shapes(data, num_train=8, num_val=4, size=64, task='cls')
    work_dir = str(tmp / 'work')
    runner, probe = train_in_process([CLS, *cfg_options(cls_options(data, work_dir, 2))])
    lr = runner.optim_wrapper.param_groups[0]['lr']
    return dict(data=data, work_dir=work_dir, losses=probe.losses, lr=lr)


def test_auto_scale_lr_scales_the_learning_rate_by_the_total_batch(cls_run, tmp_path):
    """--auto-scale-lr: lr * (batch 2 x 1 process) / the config's base_batch_size (256, from
    mmpretrain's ImageNet config); without it the config's lr (the module's run)."""
    assert cls_run['lr'] == pytest.approx(3e-4, rel=1e-12)
    runner, _ = train_in_process(
        [CLS, '--auto-scale-lr', *cfg_options(cls_options(cls_run['data'], str(tmp_path), 1))]
    )
    assert runner.optim_wrapper.param_groups[0]['lr'] == pytest.approx(3e-4 * 2 / 256, rel=1e-12)
    assert runner.cfg.auto_scale_lr == dict(base_batch_size=256, enable=True)


def test_resume_from_an_explicit_checkpoint_path(cls_run, tmp_path):
    """--resume PATH, from iteration 1 of another work dir (whose latest checkpoint is at 2;
    this one has none): iterations 2 and 3 are trained, and iteration 2 repeats the original
    run's exactly (weights, optimizer and random states come from that file)."""
    checkpoint = os.path.join(cls_run['work_dir'], 'iter_1.pth')
    runner, probe = train_in_process(
        [CLS, '--resume', checkpoint, *cfg_options(cls_options(cls_run['data'], str(tmp_path), 3))]
    )
    assert runner.iter == 3 and len(probe.losses) == 2
    assert probe.losses[0] == cls_run['losses'][1]
    assert os.path.exists(tmp_path / 'iter_3.pth') and not os.path.exists(tmp_path / 'iter_1.pth')


def test_syncbn_is_built_as_bn_in_a_single_process_run(tmp_path):
    """build_runner without a launcher builds the SyncBN layers of a config (the PSPNet toy's,
    mmseg's ResNetV1c layout) as BN: torch's SyncBatchNorm needs a process group. Exactly
    ``nn.BatchNorm2d``: MMEngine's own fallback (``_BatchNormXd``, what it builds without our
    revert) is another class, and the fused SE block end recomputes a downsample's BN in
    backward only when it is an ``nn.BatchNorm2d``."""
    args = argparse.Namespace(config=SEG, launcher='none', work_dir=str(tmp_path), cfg_options=None)
    norms = [
        type(m)
        for m in build_runner(args).model.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]
    assert len(norms) > 50 and set(norms) == {torch.nn.BatchNorm2d}


def test_dist_test_sh_with_one_process_equals_tools_test(cls_run, tmp_path):
    """tools/dist_test.sh CONFIG CHECKPOINT 1 [options]: torchrun, one CPU (gloo) process,
    evaluates that checkpoint with those options: the metric of tools/test.py in-process."""
    checkpoint = os.path.join(cls_run['work_dir'], 'iter_2.pth')
    options = cfg_options(cls_options(cls_run['data'], str(tmp_path / 'single'), 2))
    single = test_tool.main([CLS, checkpoint, *options])
    options = cfg_options(cls_options(cls_run['data'], str(tmp_path / 'dist'), 2))
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1')
    result = subprocess.run(
        [
            'bash',
            os.path.join(ROOT, 'tools', 'dist_test.sh'),
            CLS,
            checkpoint,
            '1',
            '--out',
            str(tmp_path / 'out.pkl'),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = open(glob.glob(str(tmp_path / 'dist' / '*' / '*.log'))[0]).read()
    assert 'Distributed launcher: pytorch' in log and 'Distributed training: True' in log
    assert f'Load checkpoint from {checkpoint}' in log
    metric = re.search(r'accuracy/top1: ([0-9.]+)', log)
    assert metric and float(metric.group(1)) == pytest.approx(single['accuracy/top1'], abs=1e-6)
    assert os.path.getsize(tmp_path / 'out.pkl') > 0


# --- the command lines in-process (no run: the Runner is the engine's tests') -----------------


class FakeRunner:
    """What tools/train.py and tools/test.py hand to the engine, and what they call."""

    def __init__(self, args, tool, splits):
        self.args, self.tool, self.splits, self.calls = args, tool, splits, []
        self.test_evaluator = argparse.Namespace(metrics=[])

    def train(self):
        self.calls.append('train')

    def test(self):
        self.calls.append('test')
        return {'metric': 1.0}


@pytest.fixture
def fake_runner(monkeypatch):
    import se_backbones.engine.runner as engine

    monkeypatch.setattr(engine, 'build_runner', FakeRunner)
    monkeypatch.delenv('LOCAL_RANK', raising=False)


def test_train_parses_its_options_and_trains(fake_runner, tmp_path):
    runner = train_tool.main([CLS])
    assert (runner.tool, runner.splits, runner.calls) == ('train.py', ('train', 'val'), ['train'])
    args = runner.args
    assert (args.config, args.resume, args.amp, args.auto_scale_lr) == (CLS, None, False, False)
    assert (args.work_dir, args.cfg_options, args.launcher) == (None, {}, 'none')
    assert os.environ['LOCAL_RANK'] == '0'
    args = train_tool.main([CLS, '--resume', '--amp', '--auto-scale-lr']).args
    assert (args.resume, args.amp, args.auto_scale_lr) == ('auto', True, True)
    checkpoint = tmp_path / 'iter_1.pth'
    checkpoint.write_text('')
    assert train_tool.main([CLS, '--resume', str(checkpoint)]).args.resume == str(checkpoint)


@pytest.mark.parametrize(
    'tool, argv, message',
    [
        ('train', ['missing.py'], "train.py: error: config file 'missing.py' does not exist"),
        (
            'train',
            [CLS, '--resume', 'missing.pth'],
            "train.py: error: --resume checkpoint 'missing.pth' does not exist",
        ),
        ('test', ['missing.py', CLS], "test.py: error: config file 'missing.py' does not exist"),
        ('test', [CLS, 'missing.pth'], "test.py: error: checkpoint 'missing.pth' does not exist"),
    ],
)
def test_a_missing_file_is_one_line_and_exit_status_2(tool, argv, message, fake_runner, capsys):
    module = {'train': train_tool, 'test': test_tool}[tool]
    with pytest.raises(SystemExit) as exit:
        module.main(argv)
    assert exit.value.code == 2 and capsys.readouterr().err == message + '\n'


def test_test_evaluates_the_checkpoint_and_dumps_predictions(fake_runner, tmp_path, monkeypatch):
    checkpoint = str(tmp_path / 'iter_1.pth')
    open(checkpoint, 'w').close()
    captured = {}

    def build(args, tool, splits):
        captured['runner'] = FakeRunner(args, tool, splits)
        return captured['runner']

    import se_backbones.engine.runner as engine

    monkeypatch.setattr(engine, 'build_runner', build)
    out = str(tmp_path / 'p.pkl')
    argv = [CLS, checkpoint, '--work-dir', 'w', '--launcher', 'pytorch', '--out', out]
    assert test_tool.main([*argv, '--cfg-options', 'a=1']) == {'metric': 1.0}
    runner = captured['runner']
    assert (runner.tool, runner.splits, runner.calls) == ('test.py', ('test',), ['test'])
    assert vars(runner.args) == dict(
        config=CLS, launcher='pytorch', work_dir='w', cfg_options=dict(a=1, load_from=checkpoint)
    )
    [dump] = runner.test_evaluator.metrics
    assert type(dump).__name__ == 'DumpResults' and dump.out_file_path == out
    test_tool.main([CLS, checkpoint])
    assert captured['runner'].test_evaluator.metrics == []
    assert captured['runner'].args.cfg_options == dict(load_from=checkpoint)
