"""The measurements behind tools/benchmark.py: latency, train-step time, saved activations,
per-operator profiles, params and FLOPs of the backbones it compares (plain ResNet has no SE:
the ``mmdet-*`` models)."""
import collections
import contextlib
import importlib
import statistics
import time

import torch

MODELS = {  # name: (family, builder), built lazily
    'ours-se-r50': ('SE-R50', lambda: _ours('SEResNet', depth=50)),
    'timm-seresnet50': ('SE-R50', lambda: _timm('seresnet50')),
    'mmpretrain-seresnet50': ('SE-R50', lambda: _mmpretrain('SEResNet', depth=50)),
    'mmdet-resnet50': ('SE-R50', lambda: _mmdet('ResNet', depth=50)),
    'ours-se-r50-pytorch': ('SE-R50', lambda: _without_op(_ours('SEResNet', depth=50))),
    'ours-se-r50-convgate': ('SE-R50', lambda: _conv_gate(_ours('SEResNet', depth=50))),
    'ours-se-off-r50': ('SE-R50', lambda: _ours('SEResNet', depth=50,
                                                stage_with_se=(False, ) * 4)),
    'ours-se-x50': ('SE-X50', lambda: _ours('SEResNeXt', depth=50, groups=32, base_width=4)),
    'ours-se-x50-pytorch': ('SE-X50', lambda: _without_op(_ours(
        'SEResNeXt', depth=50, groups=32, base_width=4))),
    'timm-seresnext50-32x4d': ('SE-X50', lambda: _timm('seresnext50_32x4d')),
    'mmpretrain-seresnext50-32x4d': ('SE-X50', lambda: _mmpretrain(
        'SEResNeXt', depth=50, groups=32, width_per_group=4)),
    'mmdet-resnext50-32x4d': ('SE-X50', lambda: _mmdet(
        'ResNeXt', depth=50, groups=32, base_width=4)),
}


def _ours(name, **kwargs):
    import se_backbones
    return getattr(se_backbones, name)(out_indices=(0, 1, 2, 3), **kwargs)


@contextlib.contextmanager
def _patched(module, attr, value):
    """``module.attr = value`` (``module`` by name) inside the block, the old value after."""
    module = importlib.import_module(module)
    old = getattr(module, attr)
    setattr(module, attr, value)
    try:
        yield
    finally:
        setattr(module, attr, old)


class _Patched(torch.nn.Module):
    """Ours with ``module.attr = value`` while the model runs forward (autograd's backward then
    follows the forward's choices)."""

    def __init__(self, model, module, attr, value):
        super().__init__()
        self.model, self.patch = model, (module, attr, value)

    def forward(self, x):
        with _patched(*self.patch):
            return self.model(x)


def _without_op(model):
    """Ours with the PyTorch formulas instead of the compiled SE block end (what runs where it
    is not built)."""
    return _Patched(model, 'se_backbones.layers.scale_add_relu', 'OP', None)


# the gate's 1x1 convs run as convs in train steps too, not as F.linear
CONV_GATE = ('se_backbones.layers.se_layer', 'as_matrix_product', lambda conv_module: False)


def _conv_gate(model):
    """Ours with the gate's 1x1 convs run as convs in train steps too (:data:`CONV_GATE`)."""
    return _Patched(model, *CONV_GATE)


def _timm(name):
    import timm
    model = timm.create_model(name, pretrained=False, num_classes=0, global_pool='')
    model.forward = model.forward_features  # the backbone only, as the others
    return model


def _mmpretrain(name, **kwargs):
    try:
        import mmpretrain.models.backbones as backbones
    except ImportError:
        raise SystemExit('benchmark: the mmpretrain models need mmpretrain, the extra '
                         '[mmpretrain]: pip install "se_backbones[mmpretrain]"') from None
    return getattr(backbones, name)(out_indices=(0, 1, 2, 3), **kwargs)


def _mmdet(name, **kwargs):
    import mmdet.models.backbones as backbones
    return getattr(backbones, name)(out_indices=(0, 1, 2, 3), norm_eval=False, **kwargs)


def _total(out):
    return sum(o.float().sum() for o in out) if isinstance(out, (tuple, list)) else out.sum()


def prepare(name, args):
    model = MODELS[name][1]()
    x = torch.randn(args.batch, 3, *args.size)
    if args.channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(
            memory_format=torch.channels_last)
    if args.compile:
        model = torch.compile(model)
    return model, x


def forward_time(model, x):
    model.eval()
    with torch.no_grad():
        start = time.perf_counter()
        model(x)
    return time.perf_counter() - start


def train_time(model, x):
    model.train()
    start = time.perf_counter()
    _total(model(x)).backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def saved_activations_mib(model, x):
    """MiB of activations a train step keeps for backward (distinct storages saved by autograd,
    parameters excluded): the train-step memory that a backbone's design decides."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = model(x)
    del out
    return sum(saved.values()) / 2**20


def page_faults_per_step(model, x, steps=3):
    """Minor page faults per train step (after two warm-up steps): fresh memory the allocator
    takes from the kernel, each page zeroed on first touch. glibc's malloc hands large freed
    blocks back (trimming), so a step's big tensors fault again every step unless
    ``MALLOC_TRIM_THRESHOLD_``/``MALLOC_MMAP_THRESHOLD_`` (or another allocator) keep them."""
    import resource
    for _ in range(2):
        train_time(model, x)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        train_time(model, x)
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
    sample = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                         scale_factor=(1.0, 1.0), batch_input_shape=(size, size)))
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
    toy = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs',
                       'toy')
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
        boxes = torch.cat([corners, corners + size * 0.1 + torch.rand(3, 2, generator=generator)
                           * size * 0.3], dim=1)
        sample = DetDataSample(metainfo=dict(
            img_shape=(size, size), ori_shape=(size, size), scale_factor=(1.0, 1.0),
            batch_input_shape=(size, size), pad_shape=(size, size)))
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


# SE-R50's and SE-X50's SE blocks: (output channels, stride to the input, blocks) per stage
SE_STAGES = ((256, 4, 3), (512, 8, 4), (1024, 16, 6), (2048, 32, 3))


def _median_ms(fn, reps, before=lambda: None):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        before()  # untimed
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


class _Saved:
    """What ``_ScaleAddReLU.backward`` reads from its autograd context."""

    def __init__(self, *tensors):
        self.saved_tensors, self.bn, self.use_op = tensors, None, True


def se_cost_parts(batch, size, reps=30):
    """What an SE block end costs in a train step beyond a plain one, pass by pass, measured
    alone on tensors of each stage's size (SE-R50 and SE-X50 share them): ms per block, medians
    of ``reps``, each call with its tensors out of the caches (as in a whole train step, where
    a block's tensors were last touched many MiB ago). ``copy`` (one read and one write of a
    block's output) is the unit a memory-bound pass cannot beat. Plain: mmdet's
    ``out += identity; relu(out)`` and ReLU's backward. ``excite_conv``: the gate's forward and
    backward as 1x1 convs, for comparison (not in ``extra``)."""
    from se_backbones import SELayer
    from se_backbones.layers.scale_add_relu import _forward, _ScaleAddReLU
    from se_backbones.layers.squeeze_gate import spatial_mean
    evict = torch.empty(2**25)  # 128 MiB, 4x the largest cache here (L3 32 MiB)

    def as_convs(fn):
        def run():
            with _patched(*CONV_GATE):
                fn()
        return run

    rows = []
    for channels, stride, blocks in SE_STAGES:
        shape = (batch, channels, -(-size[0] // stride), -(-size[1] // stride))
        x, identity, grad = torch.randn(shape), torch.randn(shape), torch.randn(shape)
        scratch, out = x.clone(), (x + identity).relu_()
        gate, grad_gate = torch.rand(batch, channels, 1, 1), torch.randn(batch, channels, 1, 1)
        pooled = spatial_mean(x).requires_grad_()
        se = SELayer(channels)
        parts = dict(
            copy=lambda: scratch.copy_(x),
            plain_forward=lambda: scratch.add_(identity).relu_(),
            plain_backward=lambda: torch.ops.aten.threshold_backward(grad, out, 0),
            squeeze=lambda: spatial_mean(x),
            excite=lambda: se.excite(pooled).sum().backward(),  # forward + backward
            excite_conv=as_convs(lambda: se.excite(pooled).sum().backward()),
            end_forward=lambda: _forward(scratch, gate, identity, inplace=True),
            end_backward=lambda: _ScaleAddReLU.backward(_Saved(out, gate, identity), grad),
            squeeze_backward=lambda: scratch.add_(grad_gate.expand(shape)))  # autograd's add
        for name, fn in parts.items():  # an untimed first round: first calls on new tensors
            _median_ms(fn, reps, evict.zero_)  # can run slower (docs/benchmarks.md: malloc)
        row = dict(shape=shape, blocks=blocks,
                   **{name: _median_ms(fn, reps, evict.zero_) for name, fn in parts.items()})
        row['extra'] = (sum(row[k] for k in ('squeeze', 'excite', 'end_forward', 'end_backward',
                                             'squeeze_backward'))
                        - row['plain_forward'] - row['plain_backward'])
        rows.append(row)
    return rows


def print_se_cost_parts(rows, measured=None):
    """The table of :func:`se_cost_parts`, and its sum over SE-R50's 16 blocks against the
    ``measured`` train-step gap (ms), if given."""
    names = ('copy', 'plain_forward', 'plain_backward', 'squeeze', 'excite', 'excite_conv',
             'end_forward', 'end_backward', 'squeeze_backward', 'extra')
    print('\nSE block end, pass by pass, caches evicted before each call (ms per block, '
          'medians; copy = one read + one write of the block output; extra = SE parts - plain '
          'parts, excite_conv left out)')
    print('| block output | blocks | ' + ' | '.join(names) + ' | extra in copies |')
    print('|---|---:|' + '---:|' * (len(names) + 1))
    for row in rows:
        print(f"| {'x'.join(map(str, row['shape']))} | {row['blocks']} | "
              + ' | '.join(f'{row[name]:.2f}' for name in names)
              + f" | {row['extra'] / row['copy']:.1f} |")
    total = sum(row['extra'] * row['blocks'] for row in rows)
    copies = sum(row['copy'] * row['blocks'] for row in rows)
    print(f'SE extra per train step, summed over the blocks: {total:.1f} ms '
          f'({total / copies:.1f} copies of every SE block output)'
          + (f'; measured ours - ours with SE off: {measured:.1f} ms' if measured else ''))
    return total


def op_times_ms(model, x, train):
    """Self CPU time (ms) per operator of one forward (``train``: forward + backward)."""
    from torch.profiler import ProfilerActivity, profile
    step = train_time if train else forward_time
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step(model, x)
    return {event.key: event.self_cpu_time_total / 1e3 for event in prof.key_averages()}


def print_profile(ours, plain, prepared, reps=5, top=8):
    """The operators that account for ours' extra time over ``plain``, forward and train:
    per operator the median over ``reps`` interleaved profiles of each model."""
    for train in (False, True):
        runs = {name: [] for name in (ours, plain)}
        for _ in range(reps):
            for name in runs:
                runs[name].append(op_times_ms(*prepared[name], train))
        a, b = ({op: statistics.median(r.get(op, 0.0) for r in rs)
                 for op in set().union(*rs)} for rs in runs.values())
        a, b = collections.Counter(a), collections.Counter(b)
        print(f"\n{'train step' if train else 'forward'} profile, {ours} vs {plain} (medians "
              f'of {reps}): {sum(a.values()):.1f} vs {sum(b.values()):.1f} ms self CPU time')
        print('| operator | ours ms | plain ms | extra ms |')
        print('|---|---:|---:|---:|')
        for op in sorted(set(a) | set(b), key=lambda op: b[op] - a[op])[:top]:
            print(f'| {op} | {a[op]:.2f} | {b[op]:.2f} | {a[op] - b[op]:+.2f} |')


def complexity(model, size):
    """Params and FLOPs of ``model`` on one (3, *size) image."""
    from mmengine.analysis import get_model_complexity_info
    info = get_model_complexity_info(model, input_shape=(3, *size), show_table=False,
                                     show_arch=False)
    return info['params'], info['flops']
