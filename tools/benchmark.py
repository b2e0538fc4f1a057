"""Speed and memory of our SE backbones against timm, mmpretrain and plain ResNet, side by side.

    python tools/benchmark.py [--batch 4] [--size 224] [--threads 2] [--rounds 5]
                              [--channels-last] [--compile] [--detector-size 512]
                              [--profile] [--json out.json]

One process, one input, one thread count; the models take turns in every round (interleaved),
and the median and spread over rounds are reported. Measured per model: eval forward latency
(no_grad), train step time (forward + backward of the summed stage outputs), activation memory
of a train step (the tensors autograd saves for backward, parameters excluded: what decides a
train step's peak memory beyond the weights), params and FLOPs (MMEngine's counts at the input
size, one image). Ratios: ours / plain ResNet (the floor) and ours / each SE peer. With
``--detector-size``, also Faster R-CNN SE-R50 vs R50 inference latency end to end. With
``--profile``, the operators where our forward and train step spend more time than the plain
ResNet's (torch.profiler self CPU time): where an SE block's cost comes from.
"""
import collections
import argparse
import json
import statistics
import time

import torch

MODELS = {  # name: (family, builder), built lazily
    'ours SE-R50': ('SE-R50', lambda: _ours('SEResNet', depth=50)),
    'timm seresnet50': ('SE-R50', lambda: _timm('seresnet50')),
    'mmpretrain SEResNet-50': ('SE-R50', lambda: _mmpretrain('SEResNet', depth=50)),
    'mmdet ResNet-50 (no SE)': ('SE-R50', lambda: _mmdet('ResNet', depth=50)),
    'ours SE-X50': ('SE-X50', lambda: _ours('SEResNeXt', depth=50, groups=32, base_width=4)),
    'timm seresnext50_32x4d': ('SE-X50', lambda: _timm('seresnext50_32x4d')),
    'mmpretrain SEResNeXt-50': ('SE-X50', lambda: _mmpretrain(
        'SEResNeXt', depth=50, groups=32, width_per_group=4)),
    'mmdet ResNeXt-50 (no SE)': ('SE-X50', lambda: _mmdet(
        'ResNeXt', depth=50, groups=32, base_width=4)),
}


def _ours(name, **kwargs):
    import se_backbones
    return getattr(se_backbones, name)(out_indices=(0, 1, 2, 3), **kwargs)


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
    x = torch.randn(args.batch, 3, args.size, args.size)
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
    from mmengine.analysis import get_model_complexity_info
    info = get_model_complexity_info(model, input_shape=(3, size, size), show_table=False,
                                     show_arch=False)
    return info['params'], info['flops']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--compile', action='store_true', help='torch.compile every model')
    parser.add_argument('--detector-size', type=int, default=0,
                        help='also time Faster R-CNN SE-R50 vs R50 inference on one image of '
                        'this size (e.g. 512)')
    parser.add_argument('--profile', action='store_true',
                        help="profile ours vs the plain ResNet per operator")
    parser.add_argument('--json', help='also write the results to this JSON file')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel('ERROR')

    prepared = {name: prepare(name, args) for name in args.models}
    rows = {name: dict(name=name, family=MODELS[name][0], forward=[], train=[])
            for name in args.models}
    for name, (model, x) in prepared.items():  # warm-up (and compilation)
        forward_time(model, x), train_time(model, x)
    for _ in range(args.rounds):  # interleaved: every model once per round
        for name, (model, x) in prepared.items():
            rows[name]['forward'].append(forward_time(model, x))
            rows[name]['train'].append(train_time(model, x))
    for name, row in rows.items():
        plain_model = MODELS[name][1]()
        row['params'], row['flops'] = complexity(plain_model, args.size)
        row['memory_mib'] = saved_activations_mib(*prepared[name])
        for key in ('forward', 'train'):
            row[f'{key}_median'] = statistics.median(row[key])
            row[f'{key}_spread'] = max(row[key]) - min(row[key])

    print(f'batch {args.batch}, {args.size}x{args.size}, {args.threads} threads, '
          f'{args.rounds} interleaved rounds, channels_last={args.channels_last}, '
          f'compile={args.compile}; times are medians (spread = max - min)')
    print('| model | params (M) | GFLOPs | forward ms | train step ms | saved activations MiB |')
    print('|---|---:|---:|---:|---:|---:|')
    for row in rows.values():
        print(f"| {row['name']} | {row['params'] / 1e6:.2f} | {row['flops'] / 1e9:.2f} | "
              f"{row['forward_median'] * 1e3:.0f} ± {row['forward_spread'] * 1e3:.0f} | "
              f"{row['train_median'] * 1e3:.0f} ± {row['train_spread'] * 1e3:.0f} | "
              f"{row['memory_mib']:.0f} |")
    print('\n| ratio | forward | train step | saved activations |')
    print('|---|---:|---:|---:|')
    for ours in (r for r in rows.values() if r['name'].startswith('ours')):
        for other in rows.values():
            if other['family'] == ours['family'] and other is not ours:
                print(f"| {ours['name']} / {other['name']} | "
                      f"{ours['forward_median'] / other['forward_median']:.3f} | "
                      f"{ours['train_median'] / other['train_median']:.3f} | "
                      f"{ours['memory_mib'] / other['memory_mib']:.3f} |")
    if args.detector_size:
        det = detector_latencies(args.detector_size, args.rounds)
        (se, se_spread), (plain, plain_spread) = det['faster_rcnn_se_r50'], det['faster_rcnn_r50']
        print(f'\nFaster R-CNN FPN inference, one {args.detector_size}x{args.detector_size} '
              f'image: SE-R50 {se * 1e3:.0f} ± {se_spread * 1e3:.0f} ms, R50 {plain * 1e3:.0f} '
              f'± {plain_spread * 1e3:.0f} ms, ratio {se / plain:.3f}')
        rows['detectors'] = det
    if args.profile:
        for ours in (n for n in rows if n.startswith('ours')):
            plain = [n for n in rows if 'no SE' in n and MODELS[n][0] == MODELS[ours][0]]
            if plain:
                print_profile(ours, plain[0], prepared)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(list(rows.values()), f, indent=1)
    return rows


if __name__ == '__main__':
    main()
