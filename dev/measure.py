"""The measurements behind tools/benchmark.py (developers' internals; the command is
tools/benchmark.py): latency, train-step time, saved activations,
per-operator profiles, params and FLOPs of the backbones it compares (plain ResNet has no SE:
the ``mmdet-*`` models)."""

import collections
import statistics
import time

import torch

MODELS = {  # name: (family, builder), built lazily
    'ours-se-r50': ('SE-R50', lambda: _ours('SEResNet', depth=50)),
    'timm-seresnet50': ('SE-R50', lambda: _timm('seresnet50')),
    'mmpretrain-seresnet50': ('SE-R50', lambda: _mmpretrain('SEResNet', depth=50)),
    'mmdet-resnet50': ('SE-R50', lambda: _mmdet('ResNet', depth=50)),
    'ours-se-off-r50': ('SE-R50', lambda: _ours('SEResNet', depth=50, stage_with_se=(False,) * 4)),
    'ours-se-r18': ('SE-R18', lambda: _ours('SEResNet', depth=18)),
    'mmdet-resnet18': ('SE-R18', lambda: _mmdet('ResNet', depth=18)),
    'ours-se-x50': ('SE-X50', lambda: _ours('SEResNeXt', depth=50, groups=32, base_width=4)),
    'timm-seresnext50-32x4d': ('SE-X50', lambda: _timm('seresnext50_32x4d')),
    'mmpretrain-seresnext50-32x4d': (
        'SE-X50',
        lambda: _mmpretrain('SEResNeXt', depth=50, groups=32, width_per_group=4),
    ),
    'mmdet-resnext50-32x4d': (
        'SE-X50',
        lambda: _mmdet('ResNeXt', depth=50, groups=32, base_width=4),
    ),
}
# mode name: (torch.compile, channels_last)
MODES = {
    'eager': (False, False),
    'eager-cl': (False, True),
    'compile': (True, False),
    'compile-cl': (True, True),
}
AMP_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


def _ours(name, **kwargs):
    import se_backbones

    return getattr(se_backbones, name)(out_indices=(0, 1, 2, 3), **kwargs)


def _timm(name):
    import timm

    # the four stage outputs, as the others give (a detector's neck takes them all)
    return timm.create_model(name, pretrained=False, features_only=True, out_indices=(1, 2, 3, 4))


def _mmpretrain(name, **kwargs):
    try:
        import mmpretrain.models.backbones as backbones
    except ImportError:
        raise SystemExit(
            'benchmark: the mmpretrain models need mmpretrain, the extra '
            '[mmpretrain]: pip install "se_backbones[mmpretrain]"'
        ) from None
    return getattr(backbones, name)(out_indices=(0, 1, 2, 3), **kwargs)


def _mmdet(name, **kwargs):
    import mmdet.models.backbones as backbones

    return getattr(backbones, name)(out_indices=(0, 1, 2, 3), norm_eval=False, **kwargs)


def _total(out):
    return sum(o.float().sum() for o in out) if isinstance(out, (tuple, list)) else out.sum()


class Setting:
    """Where and how the models run: device, autocast dtype (or None)."""

    def __init__(self, device='cpu', amp=None):
        self.device, self.amp = torch.device(device), AMP_DTYPES.get(amp)

    def autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp, enabled=self.amp is not None)

    def sync(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)


def prepare(name, mode, batch, size, setting):
    """The model ``name`` and an input, on the setting's device, in ``mode``'s layout,
    compiled if the mode says so."""
    compiled, channels_last = MODES[mode]
    torch.manual_seed(0)
    model = MODELS[name][1]().to(setting.device)
    x = torch.randn(batch, 3, *size, device=setting.device)
    if channels_last:
        model, x = (
            model.to(memory_format=torch.channels_last),
            x.contiguous(memory_format=torch.channels_last),
        )
    if compiled:
        model = torch.compile(model)
    return model, x


def forward_time(model, x, setting):
    model.eval()
    with torch.no_grad(), setting.autocast():
        setting.sync()
        start = time.perf_counter()
        model(x)
        setting.sync()
    return time.perf_counter() - start


def train_time(model, x, setting):
    model.train()
    setting.sync()
    start = time.perf_counter()
    with setting.autocast():
        out = model(x)
    _total(out).backward()
    model.zero_grad(set_to_none=True)
    setting.sync()
    return time.perf_counter() - start


def peak_train_mib(model, x, setting):
    """CUDA: the peak memory a train step allocates beyond what was allocated before it."""
    torch.cuda.reset_peak_memory_stats(setting.device)
    before = torch.cuda.memory_allocated(setting.device)
    train_time(model, x, setting)
    return (torch.cuda.max_memory_allocated(setting.device) - before) / 2**20


def saved_activations_mib(model, x, setting):
    """MiB of activations a train step keeps for backward (distinct storages saved by autograd,
    parameters excluded): the train-step memory that a backbone's design decides. Compiled
    models save what inductor's partitioner chose."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor), setting.autocast():
        out = model(x)
    del out
    return sum(saved.values()) / 2**20


def page_faults_per_step(model, x, setting, steps=3):
    """Minor page faults per train step (after two warm-up steps): fresh memory the allocator
    takes from the kernel, each page zeroed on first touch. glibc's malloc hands large freed
    blocks back (trimming), so a step's big tensors fault again every step unless
    ``MALLOC_TRIM_THRESHOLD_``/``MALLOC_MMAP_THRESHOLD_`` (or another allocator) keep them."""
    import resource

    for _ in range(2):
        train_time(model, x, setting)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        train_time(model, x, setting)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / steps


def detector_latencies(size, rounds):
    """Median and spread (s) of Faster R-CNN SE-R50 and R50 (our COCO configs, random weights)
    inference on one size x size image, interleaved rounds."""
    import os

    from mmdet.registry import MODELS as DET_MODELS
    from mmdet.structures import DetDataSample
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    configs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')
    models = {}
    for name in ('faster_rcnn_se_r50', 'faster_rcnn_r50'):
        cfg = Config.fromfile(os.path.join(configs, f'{name}.py'))
        cfg.model.backbone.init_cfg = None
        with DefaultScope.overwrite_default_scope('mmdet'):
            models[name] = DET_MODELS.build(cfg.model).eval()
    inputs = torch.randn(1, 3, size, size)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(size, size),
            ori_shape=(size, size),
            scale_factor=(1.0, 1.0),
            batch_input_shape=(size, size),
        )
    )
    times = {name: [] for name in models}
    with torch.no_grad():
        for round_index in range(rounds + 1):  # the first round warms up
            for name, model in models.items():
                start = time.perf_counter()
                model.predict(inputs, [sample])
                if round_index:
                    times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), max(t) - min(t)) for name, t in times.items()}


def detector_train_times(rounds, batch=4, size=128):
    """Median and spread (s) of a Faster R-CNN FPN train step (loss forward + backward) with
    SE-R50 and with R50, on toy-sized images (``batch`` of ``size`` x ``size``, three boxes
    each): the toy configs' models, interleaved rounds. Both detectors get the same weights
    wherever their keys agree (all but the SE layers: stem, convs, norms, neck, RPN and RoI
    heads), so their heads do the same work."""
    import os

    from mmdet.registry import MODELS as DET_MODELS
    from mmdet.structures import DetDataSample
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.structures import InstanceData

    toy = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs', 'toy'
    )
    models = {}
    for name in ('faster_rcnn_r50_toy', 'faster_rcnn_se_r50_toy'):
        cfg = Config.fromfile(os.path.join(toy, f'{name}.py'))
        cfg.model.backbone.init_cfg = None
        torch.manual_seed(0)
        with DefaultScope.overwrite_default_scope('mmdet'):
            models[name] = DET_MODELS.build(cfg.model).train()
    plain, se = models.values()
    missing, unexpected = se.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all('se_layer' in key for key in missing), (missing, unexpected)
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(batch, 3, size, size, generator=generator)
    samples = []
    for _ in range(batch):
        corners = torch.rand(3, 2, generator=generator) * size * 0.6
        boxes = torch.cat(
            [corners, corners + size * 0.1 + torch.rand(3, 2, generator=generator) * size * 0.3],
            dim=1,
        )
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0),
                batch_input_shape=(size, size),
                pad_shape=(size, size),
            )
        )
        sample.gt_instances = InstanceData(bboxes=boxes, labels=torch.tensor([0, 1, 2]))
        samples.append(sample)
    times = {name: [] for name in models}
    for round_index in range(rounds + 1):  # the first round warms up
        for name, model in models.items():
            start = time.perf_counter()
            loss, _ = model.parse_losses(model.loss(inputs, samples))
            loss.backward()
            model.zero_grad(set_to_none=True)
            if round_index:
                times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), max(t) - min(t)) for name, t in times.items()}


def op_times_ms(model, x, setting, train):
    """Self CPU time (ms) per operator of one forward (``train``: forward + backward)."""
    from torch.profiler import ProfilerActivity, profile

    step = train_time if train else forward_time
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step(model, x, setting)
    return {event.key: event.self_cpu_time_total / 1e3 for event in prof.key_averages()}


def print_profile(ours, plain, prepared, setting, reps=5, top=8):
    """The operators that account for ours' extra time over ``plain``, forward and train:
    per operator the median over ``reps`` interleaved profiles of each model."""
    for train in (False, True):
        runs = {name: [] for name in (ours, plain)}
        for _ in range(reps):
            for name in runs:
                runs[name].append(op_times_ms(*prepared[name], setting, train))
        a, b = (
            {op: statistics.median(r.get(op, 0.0) for r in rs) for op in set().union(*rs)}
            for rs in runs.values()
        )
        a, b = collections.Counter(a), collections.Counter(b)
        print(
            f'\n{"train step" if train else "forward"} profile, {ours} vs {plain} (medians '
            f'of {reps}): {sum(a.values()):.1f} vs {sum(b.values()):.1f} ms self CPU time'
        )
        print('| operator | ours ms | plain ms | extra ms |')
        print('|---|---:|---:|---:|')
        for op in sorted(set(a) | set(b), key=lambda op: b[op] - a[op])[:top]:
            print(f'| {op} | {a[op]:.2f} | {b[op]:.2f} | {a[op] - b[op]:+.2f} |')


def complexity(model, size):
    """Params and FLOPs of ``model`` on one (3, *size) image."""
    from mmengine.analysis import get_model_complexity_info

    info = get_model_complexity_info(
        model, input_shape=(3, *size), show_table=False, show_arch=False
    )
    return info['params'], info['flops']


def block_kernels(train, se=True):
    """The kernels inductor generates for one SE-R50 stage-2 bottleneck (``se=False``: the
    plain one), forward (and backward in train mode), by name: each name lists the ops fused
    into one pass, the ``extern`` calls (convs, matrix products) apart."""
    import re

    from torch._inductor.utils import run_and_get_code

    from se_backbones.backbones.se_blocks import SEBottleneck

    torch._dynamo.reset()
    block = SEBottleneck(512, 128, se_cfg=dict(ratio=16) if se else None).train(train)
    x = torch.randn(4, 512, 28, 28, requires_grad=train)
    compiled = torch.compile(block)

    def step():
        out = compiled(x)
        if train:
            out.sum().backward()

    _, codes = run_and_get_code(step)
    return [
        [
            *re.findall(r'^(cpp_fused_\w+|triton_\w+) = ', code, re.M),
            *(f'extern {name}' for name in re.findall(r'extern_kernels\.(\w+)\(', code)),
        ]
        for code in codes
    ]
