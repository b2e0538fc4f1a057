"""Speed and memory of our SE backbones against timm, mmpretrain and plain ResNet, side by side.

    python tools/benchmark.py [--device cpu|cuda] [--amp bf16|fp16] [--batch 4] [--size 224]
                              [--threads 2] [--rounds 5] [--modes eager compile ...]
                              [--models MODEL ...] [--detector-size 512] [--detector-train]
                              [--profile] [--kernels] [--json out.json]

One process, one input, one thread count; the models take turns in every round (interleaved),
and the median and spread over rounds are reported, for each mode: ``eager``, ``eager-cl``
(channels_last), ``compile`` (torch.compile, inductor) and ``compile-cl``. Measured per model
and mode: eval forward latency (no_grad), train step time (forward + backward of the summed
stage outputs), activation memory of a train step (the tensors autograd saves for backward,
parameters excluded; on CUDA also the peak memory a train step allocates), minor page faults
per train step on the CPU, params and FLOPs (MMEngine's counts at the input size, one image).
Ratios: ours / plain ResNet (the floor) and ours / each SE peer, per mode. With
``--detector-size``, also Faster R-CNN SE-R50 vs R50 inference latency end to end (CPU, float32).
With ``--profile``, the operators where our eager forward and train step spend more time than
the plain ResNet's. With ``--kernels``, the kernels inductor generates for one SE bottleneck
and one plain bottleneck (which ops each pass fuses). The whole GPU table: tools/benchmark_all.sh.
"""

import argparse
import json
import os
import statistics
import sys

if not __package__:  # run as a script: the repo root holds tools.cli and dev.measure
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import parser as cli_parser

# the models and modes of dev.measure, without importing it (and torch) before --help
MODEL_NAMES = [
    'ours-se-r50',
    'timm-seresnet50',
    'mmpretrain-seresnet50',
    'mmdet-resnet50',
    'ours-se-off-r50',
    'ours-se-r18',
    'mmdet-resnet18',
    'ours-se-x50',
    'timm-seresnext50-32x4d',
    'mmpretrain-seresnext50-32x4d',
    'mmdet-resnext50-32x4d',
]
DEFAULT_MODELS = [name for name in MODEL_NAMES if '-off-' not in name and '18' not in name]
MODE_NAMES = ['eager', 'eager-cl', 'compile', 'compile-cl']


def image_size(text):
    """'224' or 'HxW' (e.g. '800x1216', mmdet's Faster R-CNN input) -> (H, W)."""
    try:
        sizes = tuple(int(v) for v in text.lower().split('x'))
    except ValueError:
        sizes = ()
    if len(sizes) not in (1, 2) or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"expected a size like 224 or 800x1216, got '{text}'")
    return sizes * 2 if len(sizes) == 1 else sizes


def paired_ratio(ours, other):
    """Median, min and max of the per-round ratios ours / other: each round times both models
    back to back, so the pairing cancels the machine's slow drifts."""
    per_round = sorted(a / b for a, b in zip(ours, other, strict=True))
    return dict(median=statistics.median(per_round), min=per_round[0], max=per_round[-1])


def parse_args(argv):
    parser = cli_parser(__doc__)
    parser.add_argument(
        '--device', default='cpu', choices=['cpu', 'cuda'], help='where the models run'
    )
    parser.add_argument(
        '--amp', choices=['bf16', 'fp16'], help='autocast to this dtype (None: float32)'
    )
    parser.add_argument('--batch', type=int, default=4, help='images per step')
    parser.add_argument(
        '--size',
        type=image_size,
        default='224',
        help='input size: one number (square) or HxW, e.g. 800x1216',
    )
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument(
        '--rounds', type=int, default=5, help='interleaved rounds (every model once per round)'
    )
    parser.add_argument(
        '--modes',
        nargs='+',
        default=['eager'],
        choices=MODE_NAMES,
        metavar='MODE',
        help='modes to measure, in one table: '
        + ', '.join(MODE_NAMES)
        + ' (-cl: channels_last; compile: torch.compile, inductor)',
    )
    parser.add_argument(
        '--models',
        nargs='+',
        default=DEFAULT_MODELS,
        choices=MODEL_NAMES,
        metavar='MODEL',
        help='models to compare: '
        + ', '.join(MODEL_NAMES)
        + ' (ours-se-off-r50: ours with SE off in every stage, i.e. a plain '
        'ResNet-50)',
    )
    parser.add_argument(
        '--detector-size',
        type=int,
        default=0,
        help='also time Faster R-CNN SE-R50 vs R50 inference on one image of '
        'this size (e.g. 512); 0: no',
    )
    parser.add_argument(
        '--detector-train',
        action='store_true',
        help='also time a Faster R-CNN FPN train step, SE-R50 vs R50 (the toy '
        'configs, batch 4 of 128x128, the same weights but for SE)',
    )
    parser.add_argument(
        '--profile',
        action='store_true',
        help='profile ours vs the plain ResNet per operator (eager)',
    )
    parser.add_argument(
        '--kernels',
        action='store_true',
        help="list inductor's kernels for one SE and one plain bottleneck",
    )
    parser.add_argument('--json', help='also write the results to this JSON file')
    args = parser.parse_args(argv)
    if args.device == 'cuda':
        import torch

        if not torch.cuda.is_available():
            parser.exit(
                2,
                f'benchmark.py: --device cuda: no CUDA device here (torch '
                f'{torch.__version__}, built with CUDA {torch.version.cuda}); use '
                '--device cpu\n',
            )
    return args


def measure(args, measure_lib, setting):
    """Rows per (model, mode): times per round, medians, spreads, memory."""
    m = measure_lib
    rows = {}
    for mode in args.modes:
        prepared = {
            name: m.prepare(name, mode, args.batch, args.size, setting) for name in args.models
        }
        for model, x in prepared.values():  # warm-up (and compilation)
            m.forward_time(model, x, setting), m.train_time(model, x, setting)
        times = {name: dict(forward=[], train=[]) for name in prepared}
        for _ in range(args.rounds):  # interleaved: every model once per round
            for name, (model, x) in prepared.items():
                times[name]['forward'].append(m.forward_time(model, x, setting))
                times[name]['train'].append(m.train_time(model, x, setting))
        for name, (model, x) in prepared.items():
            row = dict(name=name, mode=mode, family=m.MODELS[name][0], **times[name])
            row['memory_mib'] = m.saved_activations_mib(model, x, setting)
            if setting.device.type == 'cuda':
                row['peak_mib'] = m.peak_train_mib(model, x, setting)
            else:
                row['page_faults'] = m.page_faults_per_step(model, x, setting)
            for key in ('forward', 'train'):
                row[f'{key}_median'] = statistics.median(row[key])
                row[f'{key}_spread'] = max(row[key]) - min(row[key])
            rows[f'{name} {mode}'] = row
        del prepared
    return rows


def print_tables(args, rows, complexity):
    print(
        f'device {args.device}, amp {args.amp or "off (float32)"}, batch {args.batch}, '
        f'{args.size[0]}x{args.size[1]}, {args.threads} threads, {args.rounds} interleaved '
        'rounds; times are medians (spread = max - min)'
    )
    extra = 'peak train MiB' if args.device == 'cuda' else 'page faults per train step'
    print(
        '| model | mode | params (M) | GFLOPs | forward ms | train step ms | saved activations '
        f'MiB | {extra} |'
    )
    print('|---|---|---:|---:|---:|---:|---:|---:|')
    for row in rows.values():
        params, flops = complexity[row['name']]
        print(
            f'| {row["name"]} | {row["mode"]} | {params / 1e6:.2f} | {flops / 1e9:.2f} | '
            f'{row["forward_median"] * 1e3:.1f} ± {row["forward_spread"] * 1e3:.1f} | '
            f'{row["train_median"] * 1e3:.1f} ± {row["train_spread"] * 1e3:.1f} | '
            f'{row["memory_mib"]:.0f} | {row.get("peak_mib", row.get("page_faults")):.0f} |'
        )
    print(
        '\n| ratio (median of per-round ratios, min-max) | mode | forward | train step | '
        'saved activations |'
    )
    print('|---|---|---:|---:|---:|')
    for ours in (r for r in rows.values() if r['name'].startswith('ours')):
        for other in rows.values():
            if (other['family'], other['mode']) != (ours['family'], ours['mode']) or (
                other is ours
            ):
                continue
            pair = ours.setdefault('ratios', {})[other['name']] = dict(
                memory=ours['memory_mib'] / other['memory_mib'],
                **{key: paired_ratio(ours[key], other[key]) for key in ('forward', 'train')},
            )
            print(
                f'| {ours["name"]} / {other["name"]} | {ours["mode"]} | '
                + ' | '.join(
                    '{median:.3f} ({min:.2f}-{max:.2f})'.format(**pair[key])
                    for key in ('forward', 'train')
                )
                + f' | {pair["memory"]:.3f} |'
            )


def print_extras(args, rows, m, setting):
    """The detector timings, the profile and the kernel lists the flags ask for."""
    if args.detector_size:
        det = m.detector_latencies(args.detector_size, args.rounds)
        (se, se_spread), (plain, plain_spread) = det['faster_rcnn_se_r50'], det['faster_rcnn_r50']
        print(
            f'\nFaster R-CNN FPN inference, one {args.detector_size}x{args.detector_size} '
            f'image: SE-R50 {se * 1e3:.0f} ± {se_spread * 1e3:.0f} ms, R50 {plain * 1e3:.0f} '
            f'± {plain_spread * 1e3:.0f} ms, ratio {se / plain:.3f}'
        )
        rows['detectors'] = det
    if args.detector_train:
        det = m.detector_train_times(args.rounds)
        (plain, plain_spread), (se, se_spread) = det.values()
        print(
            f'\nFaster R-CNN FPN train step, toy set size (batch 4, 128x128): SE-R50 '
            f'{se * 1e3:.0f} ± {se_spread * 1e3:.0f} ms, R50 {plain * 1e3:.0f} ± '
            f'{plain_spread * 1e3:.0f} ms, ratio {se / plain:.3f}'
        )
        rows['detector_train'] = det
    if args.profile:
        names = {r['name'] for r in rows.values() if isinstance(r, dict) and 'name' in r}
        for ours in sorted(n for n in names if n.startswith('ours')):
            plain = sorted(
                n for n in names if n.startswith('mmdet-') and m.MODELS[n][0] == m.MODELS[ours][0]
            )
            if plain:
                prepared = {
                    n: m.prepare(n, 'eager', args.batch, args.size, setting)
                    for n in (ours, plain[0])
                }
                m.print_profile(ours, plain[0], prepared, setting)
    if args.kernels:
        rows['kernels'] = {}
        for train in (False, True):
            for se in (True, False):
                graphs = m.block_kernels(train, se)
                key = f'{"SE" if se else "plain"} bottleneck, {"train" if train else "eval"}'
                rows['kernels'][key] = graphs
                print(f'\ninductor kernels, {key} (1x512x28x28 stage-2 block, batch 4):')
                for part, names in zip(('forward', 'backward'), graphs, strict=False):
                    print(f'- {part}: {len(names)} calls: ' + ', '.join(names))


def main(argv=None):
    args = parse_args(argv)
    import torch

    import dev.measure as m

    torch.set_num_threads(args.threads)
    from mmengine.logging import MMLogger

    MMLogger.get_current_instance().setLevel('ERROR')
    setting = m.Setting(args.device, args.amp)
    rows = measure(args, m, setting)
    complexity = {name: m.complexity(m.MODELS[name][1](), args.size) for name in args.models}
    for row in rows.values():
        row['params'], row['flops'] = complexity[row['name']]
    print_tables(args, rows, complexity)
    print_extras(args, rows, m, setting)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(list(rows.values()), f, indent=1)
    return rows


if __name__ == '__main__':
    main()
