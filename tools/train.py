"""Train with MMEngine's Runner, for mmdet, mmseg and mmpretrain configs alike (the config's
``default_scope`` picks the toolkit), as the toolkits' own tools/train.py do.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os
import os.path as osp

import torch

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from se_backbones.checkpoint import allow_mmengine_checkpoints


def add_runner_args(parser):
    """Options shared with tools/test.py."""
    parser.add_argument('--work-dir', help='the dir to save logs (and models)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (see mmdet\'s docs)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser, argv):
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model with MMEngine\'s Runner')
    parser.add_argument('config', help='train config file path')
    add_runner_args(parser)
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (bf16 autocast on CPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or without a value from the latest one in the '
        'work dir')
    return parse_runner_args(parser, argv)


def setup_cpu_ddp(cfg):
    """MMEngine's DDP assumes CUDA (``torch.cuda.set_device``, ``device_ids=[rank]``): on CPU
    join torchrun's process group with gloo first and wrap the model without device ids."""
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.setdefault('model_wrapper_cfg', dict(
        type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False)))


def build_runner(args):
    """The Runner for ``args`` (shared with tools/test.py)."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if getattr(args, 'amp', False):
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if getattr(args, 'auto_scale_lr', False):
        cfg.setdefault('auto_scale_lr', dict(base_batch_size=16))['enable'] = True
    resume = getattr(args, 'resume', None)
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume is not None:
        cfg.resume, cfg.load_from = True, resume
    if cfg.get('visualizer'):
        # a fixed name makes a second Runner in one process reuse the first one's visualizer
        # (and log into its work dir); without it MMEngine names it after the experiment
        cfg.visualizer.pop('name', None)
    allow_mmengine_checkpoints()  # torch>=2.6 loads with weights_only=True
    if cfg.launcher == 'pytorch' and not torch.cuda.is_available():
        setup_cpu_ddp(cfg)
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def main(argv=None):
    runner = build_runner(parse_args(argv))
    runner.train()
    return runner


if __name__ == '__main__':
    main()
