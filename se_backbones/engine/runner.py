"""Building MMEngine's Runner from a config file and command-line options, for any toolkit:
shared by tools/train.py, tools/test.py, tools/demo.py and tools/benchmark_coco.py (whose
command lines are in tools/cli.py)."""

import itertools
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


def setup_cpu_ddp(cfg):
    """MMEngine's DDP assumes CUDA (``torch.cuda.set_device``, ``device_ids=[rank]``): on CPU
    join torchrun's process group with gloo first and wrap the model without device ids."""
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.setdefault(
        'model_wrapper_cfg',
        dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False),
        ),
    )


def revert_sync_bn(node):
    """SyncBN -> BN throughout a config: SyncBN needs a process group, so single-process
    runs use BN, as mmseg's own tools do. Returns how many it changed."""
    changed = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            changed += 1
        changed += sum(revert_sync_bn(value) for value in node.values())
    elif isinstance(node, (list, tuple)):
        changed += sum(revert_sync_bn(value) for value in node)
    return changed


def dataset_paths(dataset):
    """The files and folders a dataset config reads: its ``ann_file`` (under ``data_root``),
    else its ``data_root``; wrappers (``dataset``, ``datasets``) are followed."""
    if not isinstance(dataset, dict):
        return []
    if isinstance(dataset.get('dataset'), dict):
        return dataset_paths(dataset['dataset'])
    if isinstance(dataset.get('datasets'), (list, tuple)):
        return [path for inner in dataset['datasets'] for path in dataset_paths(inner)]
    root, ann_file = dataset.get('data_root') or '', dataset.get('ann_file')
    if ann_file:
        return [ann_file if osp.isabs(ann_file) else osp.join(root, ann_file)]
    return [root] if root else []


def check_data(cfg, splits, tool):
    """Before anything is built: the data each split's loader reads exists, else one line
    naming it and the ways out (``SystemExit``)."""
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or (split == 'val' and not cfg.get('val_cfg')):
            continue
        for path in dataset_paths(loader.get('dataset')):
            if not osp.exists(path):
                raise SystemExit(
                    f'{tool}: error: the {split} data is not where the config expects it: '
                    f'{path} does not exist. Put the dataset there, or point the config at it '
                    f'with --cfg-options {split}_dataloader.dataset.data_root=/path/to/data/ '
                    f"(and the evaluator's ann_file){toy_hint(path)}"
                )


def toy_hint(path):
    """How to get the data instead: the toy set generator for a toy config's data, else the
    main job, which needs no dataset."""
    for task, folder in (
        ('seg', 'toy_shapes_seg'),
        ('cls', 'toy_shapes_cls'),
        ('det', 'toy_shapes'),
    ):
        normal = path.replace(osp.sep, '/') + '/'
        if f'{folder}/' in normal:  # the last one: a parent may have the name in its own
            root = path[: normal.rindex(f'{folder}/') + len(folder)]
            return (
                f'; generate this toy set with: python -m se_backbones.data.toy_shapes '
                f'{root}' + ('' if task == 'det' else f' --task {task}')
            )
    return (
        '; to try the tools without a dataset, generate a toy set: python -m '
        'se_backbones.data.toy_shapes data/toy_shapes (--task seg, --task cls: the others)'
    )


def finish_distributed():
    """Tear the process group down before the process exits (a no-op when not distributed):
    gloo workers left to the interpreter's exit can abort a rank ("terminate called without an
    active exception") after a run that succeeded."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


_RUNNERS = itertools.count()  # the Runners build_runner made in this process


def own_experiment(cfg, config):
    """Name the experiment after the config and its Runner's place in this process (MMEngine
    appends the start time): its default, the config and the start second, repeats for two
    Runners started in one second, and the second shares the first one's logger and
    visualizer, logging into the first run's files. The same on every rank of a DDP run."""
    if cfg.get('experiment_name') is None:
        cfg.experiment_name = f'{osp.splitext(osp.basename(config))[0]}_{next(_RUNNERS)}'
    return cfg


def own_visualizer(cfg):
    """Drop the visualizer's fixed name (mmdet's and mmseg's bases set one): with it a second
    Runner in one process reuses the first one's visualizer and logs into its work dir; without
    it MMEngine names the visualizer after the experiment."""
    if cfg.get('visualizer'):
        cfg.visualizer.pop('name', None)
    return cfg


def build_runner(args, tool=None, splits=()):
    """The Runner for ``args`` (shared with tools/test.py); with ``tool``, first checks that
    the data of ``splits`` ('train', 'val', 'test') is where the config expects it."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if tool is not None:
        check_data(cfg, splits, tool)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if getattr(args, 'amp', False):
        if not torch.cuda.is_available():
            raise ValueError(
                "--amp: MMEngine's AmpOptimWrapper needs a GPU (CUDA); none is "
                'available, train without --amp'
            )
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    # (Config.setdefault stores a copy of a new value and returns the original: a change to
    # what it returns is lost, so a missing entry is set first, then the stored one changed)
    if getattr(args, 'auto_scale_lr', False):
        if cfg.get('auto_scale_lr') is None:
            cfg.auto_scale_lr = dict(base_batch_size=16)
        cfg.auto_scale_lr.enable = True
    resume = getattr(args, 'resume', None)
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume is not None:
        cfg.resume, cfg.load_from = True, resume
    own_visualizer(own_experiment(cfg, args.config))
    if cfg.get('custom_hooks') is None:
        cfg.custom_hooks = []
    hooks = cfg.custom_hooks
    if not any(h.get('type') in ('se_backbones.RNGStateHook', 'RNGStateHook') for h in hooks):
        hooks.append(dict(type='se_backbones.RNGStateHook'))  # exact resume, any config
    if cfg.launcher == 'pytorch' and not torch.cuda.is_available():
        setup_cpu_ddp(cfg)
    if cfg.launcher == 'none' and revert_sync_bn(cfg.model):
        print_log('not distributed: SyncBN layers built as BN', logger='current')
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
