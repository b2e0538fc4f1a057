"""build_runner and its helpers: the config a tool's command line gives the Runner (read from a
stand-in runner class, which MMEngine builds through ``runner_type``), the missing-data refusal,
SyncBN outside DDP, the CPU process group."""

import argparse
import logging
import os
import socket

import pytest
import torch
import torch.distributed as dist
from mmengine.registry import RUNNERS

from se_backbones.engine.hooks import RNGStateHook
from se_backbones.engine.runner import (
    build_runner,
    check_data,
    dataset_paths,
    finish_distributed,
    own_visualizer,
    revert_sync_bn,
    toy_hint,
)
from tests.configs.toy import TOY, toy_options

RECORDER = 'SEBackbonesTestRecorder'


class Recorder:
    """A runner that keeps the config it is built from."""

    @classmethod
    def from_cfg(cls, cfg):
        runner = cls()
        runner.cfg = cfg
        return runner


@pytest.fixture
def config(tmp_path):
    """A config file whose runner is the recorder, with SyncBN in its model, data in
    ``tmp_path/data`` (which does not exist); the recorder registered for the test."""
    RUNNERS.register_module(name=RECORDER, module=Recorder)
    path = tmp_path / 'my_config.py'
    path.write_text(
        f'runner_type = {RECORDER!r}\n'
        'model = dict(type="Net", backbone=dict(norm_cfg=dict(type="SyncBN")),\n'
        '             heads=[dict(norm_cfg=dict(type="SyncBN", eps=1e-3)), dict(type="BN")])\n'
        'optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="SGD", lr=0.1))\n'
        f'train_dataloader = dict(dataset=dict(data_root="{tmp_path}/data/", ann_file="a.json"))\n'
    )
    yield str(path)
    RUNNERS._module_dict.pop(RECORDER)


def args(config, **kwargs):
    return argparse.Namespace(
        **dict(dict(config=config, launcher='none', cfg_options=None, work_dir=None), **kwargs)
    )


def test_what_the_runner_gets_by_default(config, mmlogs):
    cfg = build_runner(args(config)).cfg
    assert cfg.work_dir == './work_dirs/my_config'
    assert cfg.custom_hooks == [dict(type='se_backbones.RNGStateHook')]
    assert cfg.model.backbone.norm_cfg == dict(type='BN')
    assert cfg.model.heads == [dict(norm_cfg=dict(type='BN', eps=1e-3)), dict(type='BN')]
    assert (logging.INFO, 'not distributed: SyncBN layers built as BN') in mmlogs
    assert cfg.optim_wrapper == dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    assert 'resume' not in cfg and 'load_from' not in cfg and 'auto_scale_lr' not in cfg
    assert cfg.launcher == 'none'


def test_work_dir_and_options(config, tmp_path):
    cfg = build_runner(args(config, work_dir=str(tmp_path / 'w'), cfg_options={'x.y': 2})).cfg
    assert cfg.work_dir == str(tmp_path / 'w') and cfg.x == dict(y=2)
    cfg = build_runner(args(config, cfg_options={'work_dir': 'mine'})).cfg
    assert cfg.work_dir == 'mine'  # the config's own, when the command line gives none


@pytest.mark.parametrize(
    'resume, expected',
    [
        ('auto', dict(resume=True, load_from=None)),
        ('w/iter_4.pth', dict(resume=True, load_from='w/iter_4.pth')),
    ],
)
def test_resume(config, resume, expected):
    cfg = build_runner(args(config, resume=resume)).cfg
    assert dict(resume=cfg.resume, load_from=cfg.load_from) == expected


@pytest.mark.parametrize(
    'options, expected',
    [
        ({}, dict(base_batch_size=16, enable=True)),
        (
            {'auto_scale_lr': dict(base_batch_size=32, enable=False)},
            dict(base_batch_size=32, enable=True),
        ),
    ],
)
def test_auto_scale_lr(config, options, expected):
    cfg = build_runner(args(config, auto_scale_lr=True, cfg_options=options)).cfg
    assert cfg.auto_scale_lr == expected
    assert 'auto_scale_lr' not in build_runner(args(config, auto_scale_lr=False)).cfg


def test_amp_needs_a_gpu(config, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError) as error:
        build_runner(args(config, amp=True))
    assert str(error.value) == (
        "--amp: MMEngine's AmpOptimWrapper needs a GPU (CUDA); none is available, train "
        'without --amp'
    )
    assert build_runner(args(config, amp=False)).cfg.optim_wrapper.type == 'OptimWrapper'


@pytest.mark.parametrize(
    'options, scale', [({}, 'dynamic'), ({'optim_wrapper.loss_scale': 512}, 512)]
)
def test_amp_with_a_gpu(config, monkeypatch, options, scale):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    wrapper = build_runner(args(config, amp=True, cfg_options=options)).cfg.optim_wrapper
    assert wrapper.type == 'AmpOptimWrapper' and wrapper.loss_scale == scale


@pytest.mark.parametrize(
    'hooks, expected',
    [
        ([dict(type='RNGStateHook')], [dict(type='RNGStateHook')]),
        ([dict(type='se_backbones.RNGStateHook')], [dict(type='se_backbones.RNGStateHook')]),
        (
            [dict(type='EMAHook')],
            [dict(type='EMAHook'), dict(type='se_backbones.RNGStateHook')],
        ),
    ],
)
def test_the_rng_hook_is_added_once(config, hooks, expected):
    assert build_runner(args(config, cfg_options={'custom_hooks': hooks})).cfg.custom_hooks == (
        expected
    )


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def torchrun_env(monkeypatch):
    """What torchrun gives a single process; the process group is torn down after the test."""
    for name, value in dict(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(free_port()),
        RANK='0',
        WORLD_SIZE='1',
        LOCAL_RANK='0',
    ).items():
        monkeypatch.setenv(name, value)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_torchrun_on_cpu_joins_a_gloo_group_and_keeps_syncbn(config, torchrun_env, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    finish_distributed()  # not distributed: nothing to do
    cfg = build_runner(args(config, launcher='pytorch')).cfg
    assert dist.is_initialized() and dist.get_backend() == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=False,
    )
    assert cfg.model.backbone.norm_cfg == dict(type='SyncBN')
    options = {'find_unused_parameters': True}  # the group exists already: joined once
    cfg = build_runner(args(config, launcher='pytorch', cfg_options=options)).cfg
    assert cfg.model_wrapper_cfg.find_unused_parameters is True
    options = {'model_wrapper_cfg': dict(type='MyWrapper')}
    cfg = build_runner(args(config, launcher='pytorch', cfg_options=options)).cfg
    assert cfg.model_wrapper_cfg == dict(type='MyWrapper')
    finish_distributed()
    assert not dist.is_initialized()


def test_missing_data_is_one_line_before_anything_is_built(config, tmp_path):
    with pytest.raises(SystemExit) as error:
        build_runner(args(config), tool='train.py', splits=('train', 'val', 'test'))
    path = f'{tmp_path}/data/a.json'
    assert error.value.code == (
        f'train.py: error: the train data is not where the config expects it: {path} does not '
        'exist. Put the dataset there, or point the config at it with --cfg-options '
        "train_dataloader.dataset.data_root=/path/to/data/ (and the evaluator's ann_file)" + GENERIC
    )
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'a.json').write_text('{}')
    assert build_runner(args(config), tool='train.py', splits=('train', 'val', 'test')).cfg


def test_check_data_skips_val_without_val_cfg(tmp_path):
    loader = dict(dataset=dict(data_root=str(tmp_path / 'nowhere')))
    check_data(dict(val_dataloader=loader), ('train', 'val'), 'train.py')
    with pytest.raises(SystemExit, match=r'^test\.py: error: the val data '):
        check_data(dict(val_dataloader=loader, val_cfg=dict(type='ValLoop')), ('val',), 'test.py')
    with pytest.raises(SystemExit, match=r'^test\.py: error: the test data '):
        check_data(dict(test_dataloader=loader), ('test',), 'test.py')
    # no train loader, a val loader without val_cfg: both skipped, the test data still checked
    with pytest.raises(SystemExit, match=r'^test\.py: error: the test data '):
        check_data(
            dict(val_dataloader=loader, test_dataloader=loader), ('train', 'val', 'test'), 'test.py'
        )


@pytest.mark.parametrize(
    'dataset, paths',
    [
        (None, []),
        (dict(type='X'), []),
        (dict(data_root='d/'), ['d/']),
        (dict(data_root='d/', ann_file='a.json'), ['d/a.json']),
        (dict(ann_file='a.json'), ['a.json']),
        (dict(data_root='d/', ann_file='/abs/a.json'), ['/abs/a.json']),
        (dict(type='RepeatDataset', dataset=dict(data_root='d/', ann_file='a.json')), ['d/a.json']),
        (
            dict(type='ConcatDataset', datasets=(dict(data_root='e/'), dict(ann_file='b.json'))),
            ['e/', 'b.json'],
        ),
        (dict(datasets=[dict(data_root='e/')], data_root='f/'), ['e/']),
    ],
)
def test_dataset_paths(dataset, paths):
    assert dataset_paths(dataset) == paths


GENERIC = (
    '; to try the tools without a dataset, generate a toy set: python -m '
    'se_backbones.data.toy_shapes data/toy_shapes (--task seg, --task cls: the others)'
)
OWN = '; generate this toy set with: python -m se_backbones.data.toy_shapes '


@pytest.mark.parametrize(
    'path, hint',
    [
        ('/d/toy_shapes_seg/img_dir/train', OWN + '/d/toy_shapes_seg --task seg'),
        ('/d/toy_shapes_cls/train', OWN + '/d/toy_shapes_cls --task cls'),
        ('/d/toy_shapes/annotations/instances_train.json', OWN + '/d/toy_shapes'),
        ('data/toy_shapes', OWN + 'data/toy_shapes'),
        ('/d/coco/annotations/instances_train.json', GENERIC),
        ('/d/toy_shapes_v2/train', GENERIC),
        (  # the name in a parent folder's: the set's own folder is named
            '/w/toy_shapes_runs/toy_shapes/annotations/instances_train.json',
            OWN + '/w/toy_shapes_runs/toy_shapes',
        ),
        (  # the same name twice: the last one is the set's
            '/w/toy_shapes/copy/toy_shapes/annotations/instances_val.json',
            OWN + '/w/toy_shapes/copy/toy_shapes',
        ),
        (
            '/w/toy_shapes/old/toy_shapes_seg/img_dir',
            OWN + '/w/toy_shapes/old/toy_shapes_seg --task seg',
        ),
    ],
)
def test_toy_hint(path, hint):
    assert toy_hint(path) == hint


@pytest.mark.parametrize(
    'node, changed, expected',
    [
        (dict(type='SyncBN'), 1, dict(type='BN')),
        (dict(type='BN'), 0, dict(type='BN')),
        (
            dict(
                a=[dict(type='SyncBN', eps=1), (dict(type='SyncBN'), 'SyncBN')], b=dict(type='GN')
            ),
            2,
            dict(a=[dict(type='BN', eps=1), (dict(type='BN'), 'SyncBN')], b=dict(type='GN')),
        ),
        (dict(type='SyncBN', norm=dict(type='SyncBN')), 2, dict(type='BN', norm=dict(type='BN'))),
    ],
)
def test_revert_sync_bn(node, changed, expected):
    assert revert_sync_bn(node) == changed
    assert node == expected


def test_own_visualizer_drops_the_fixed_name():
    from mmengine.config import Config

    cfg = Config(dict(visualizer=dict(type='Visualizer', name='visualizer', vis_backends=[])))
    assert own_visualizer(cfg) is cfg
    assert cfg.visualizer == dict(type='Visualizer', vis_backends=[])
    bare = Config(dict(model=dict(type='X')))
    assert own_visualizer(bare) is bare
    assert bare.model == dict(type='X') and 'visualizer' not in bare
    unnamed = Config(dict(visualizer=dict(type='Visualizer')))
    assert own_visualizer(unnamed).visualizer == dict(type='Visualizer')


def test_each_runner_gets_an_experiment_named_after_the_config_and_its_place(config):
    """``<config name>_<n>``, n counting the Runners built in this process (MMEngine appends
    the start time); a config's own ``experiment_name`` is kept."""
    first = build_runner(args(config)).cfg.experiment_name
    name, number = first.rsplit('_', 1)
    assert name == 'my_config'
    assert build_runner(args(config)).cfg.experiment_name == f'my_config_{int(number) + 1}'
    with open(config, 'a') as f:
        f.write("experiment_name = 'mine'\n")
    assert build_runner(args(config)).cfg.experiment_name == 'mine'


def save_dir(runner):
    backend = runner.visualizer._vis_backends['LocalVisBackend']
    return os.path.realpath(backend._save_dir)


def test_two_runners_in_one_process_log_into_their_own_work_dirs(tmp_path, monkeypatch):
    """mmdet's base names its visualizer, and MMEngine's default name (the experiment's: the
    config and the start second) repeats within a second (both started in the same second
    here): the second Runner would reuse the first one's visualizer and logger, and log into
    the first run's work dir. The real Runner, with the hook added."""
    import time

    real_strftime = time.strftime
    monkeypatch.setattr(time, 'strftime', lambda f, *a: real_strftime(f, time.gmtime(0)))
    dirs = []
    for index in range(2):
        work_dir = str(tmp_path / f'run{index}')
        options = toy_options(str(tmp_path / 'data') + '/', work_dir)
        runner = build_runner(
            argparse.Namespace(config=TOY, work_dir=None, launcher='none', cfg_options=options)
        )
        assert any(isinstance(hook, RNGStateHook) for hook in runner.hooks)
        runner.visualizer.add_scalars({'x': 1.0})  # creates the backend's save dir
        runner.logger.info('hello')
        log = [h.baseFilename for h in runner.logger.handlers if hasattr(h, 'baseFilename')]
        dirs.append((os.path.realpath(work_dir), save_dir(runner), *map(os.path.realpath, log)))
    for work_dir, *files in dirs:
        assert len(files) == 2 and all(f.startswith(work_dir + os.sep) for f in files), files


def test_a_config_without_runner_type_goes_to_mmengines_runner(config, monkeypatch):
    """Without ``runner_type`` MMEngine's own ``Runner.from_cfg`` builds the run (stood in for
    by the recorder: the real one, with the toy config, is the test above), from the config
    with the command line's changes, the visualizer's fixed name dropped."""
    from mmengine.runner import Runner

    text = open(config).read().replace(f'runner_type = {RECORDER!r}\n', '')
    with open(config, 'w') as f:
        f.write(text + "visualizer = dict(type='Visualizer', name='visualizer')\n")
    monkeypatch.setattr(Runner, 'from_cfg', Recorder.from_cfg)
    runner = build_runner(args(config, work_dir='w'))
    assert isinstance(runner, Recorder) and 'runner_type' not in runner.cfg
    assert runner.cfg.work_dir == 'w' and runner.cfg.visualizer == dict(type='Visualizer')
    assert runner.cfg.custom_hooks == [dict(type='se_backbones.RNGStateHook')]
