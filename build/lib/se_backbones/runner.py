"""Building MMEngine's Runner from a config file and command-line options, for any toolkit:
shared by tools/train.py, tools/test.py, tools/demo.py and tools/benchmark_coco.py."""
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner



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


def setup_cpu_ddp(cfg):
    """MMEngine's DDP assumes CUDA (``torch.cuda.set_device``, ``device_ids=[rank]``): on CPU
    join torchrun's process group with gloo first and wrap the model without device ids."""
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.setdefault('model_wrapper_cfg', dict(
        type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False)))


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
        if not torch.cuda.is_available():
            raise ValueError('--amp: MMEngine\'s AmpOptimWrapper needs a GPU (CUDA); none is '
                             'available, train without --amp')
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
    hooks = cfg.setdefault('custom_hooks', [])
    if not any(h.get('type') in ('se_backbones.RNGStateHook', 'RNGStateHook') for h in hooks):
        hooks.append(dict(type='se_backbones.RNGStateHook'))  # exact resume, any config
    if cfg.launcher == 'pytorch' and not torch.cuda.is_available():
        setup_cpu_ddp(cfg)
    if cfg.launcher == 'none' and revert_sync_bn(cfg.model):
        print_log('not distributed: SyncBN layers built as BN', logger='current')
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
