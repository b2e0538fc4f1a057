"""Speed and memory of our SE backbones against timm, mmpretrain and plain ResNet, side by side.

    python tools/benchmark.py [--batch 4] [--size 224] [--threads 2] [--rounds 5]
                              [--channels-last] [--compile] [--detector-size 512]
                              [--detector-train] [--profile] [--breakdown]
                              [--json out.json] [--models MODEL ...]

One process, one input, one thread count; the models take turns in every round (interleaved),
and the median and spread over rounds are reported. Measured per model: eval forward latency
(no_grad), train step time (forward + backward of the summed stage outputs), activation memory
of a train step (the tensors autograd saves for backward, parameters excluded: what decides a
train step's peak memory beyond the weights), minor page faults per train step (fresh memory
taken from the kernel), params and FLOPs (MMEngine's counts at the input size, one image).
Ratios: ours / plain ResNet (the floor) and ours / each SE peer. With ``--detector-size``, also
Faster R-CNN SE-R50 vs R50 inference latency end to end. With ``--profile``, the operators where
our forward and train step spend more time than the plain ResNet's (torch.profiler self CPU
time): where an SE block's cost comes from. With ``--breakdown``, each pass of an SE block end
timed alone per stage (see tools.measure).
"""
import argparse
import json
import os
import statistics
import sys

if not __package__:  # run as a script: the repo root holds tools.cli and tools.measure
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import parser as cli_parser

# the models of tools.measure.MODELS, without importing it (and torch) before --help
MODEL_NAMES = ['ours-se-r50', 'timm-seresnet50', 'mmpretrain-seresnet50', 'mmdet-resnet50',
               'ours-se-r50-pytorch', 'ours-se-r50-convgate', 'ours-se-off-r50', 'ours-se-x50', 'ours-se-x50-pytorch',
               'timm-seresnext50-32x4d', 'mmpretrain-seresnext50-32x4d', 'mmdet-resnext50-32x4d']
DEFAULT_MODELS = [name for name in MODEL_NAMES
                  if not name.endswith(('-pytorch', '-convgate')) and '-off-' not in name]


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
    per_round = sorted(a / b for a, b in zip(ours, other))
    return dict(median=statistics.median(per_round), min=per_round[0], max=per_round[-1])


def main(argv=None):
    parser = cli_parser(__doc__)
    parser.add_argument('--batch', type=int, default=4, help='images per step')
    parser.add_argument('--size', type=image_size, default='224',
                        help='input size: one number (square) or HxW, e.g. 800x1216')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--rounds', type=int, default=5,
                        help='interleaved rounds (every model once per round)')
    parser.add_argument('--models', nargs='+', default=DEFAULT_MODELS, choices=MODEL_NAMES,
                        metavar='MODEL', help='models to compare: ' + ', '.join(MODEL_NAMES) +
                        ' (-pytorch: ours without the compiled SE block end; -convgate: ours with '
                        'the gate\'s 1x1 convs as convs in train steps, not F.linear; '
                        'ours-se-off-r50: ours with SE off in every stage, i.e. a plain '
                        'ResNet-50)')
    parser.add_argument('--channels-last', action='store_true',
                        help='channels_last memory format for models and input')
    parser.add_argument('--compile', action='store_true', help='torch.compile every model')
    parser.add_argument('--detector-size', type=int, default=0,
                        help='also time Faster R-CNN SE-R50 vs R50 inference on one image of '
                        'this size (e.g. 512); 0: no')
    parser.add_argument('--detector-train', action='store_true',
                        help='also time a Faster R-CNN FPN train step, SE-R50 vs R50 (the toy '
                        'configs, batch 4 of 128x128, the same weights but for SE)')
    parser.add_argument('--profile', action='store_true',
                        help="profile ours vs the plain ResNet per operator")
    parser.add_argument('--breakdown', action='store_true',
                        help='time each pass of an SE block end alone, per stage, against a '
                        'plain block end and a copy of its output (what the SE cost is made of)')
    parser.add_argument('--json', help='also write the results to this JSON file')
    args = parser.parse_args(argv)
    import torch

    from tools.measure import (MODELS, complexity, detector_latencies, detector_train_times,
                               forward_time, page_faults_per_step, prepare, print_profile,
                               print_se_cost_parts, saved_activations_mib, se_cost_parts,
                               train_time)
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
        row['page_faults'] = page_faults_per_step(*prepared[name])
        for key in ('forward', 'train'):
            row[f'{key}_median'] = statistics.median(row[key])
            row[f'{key}_spread'] = max(row[key]) - min(row[key])

    print(f'batch {args.batch}, {args.size[0]}x{args.size[1]}, {args.threads} threads, '
          f'{args.rounds} interleaved rounds, channels_last={args.channels_last}, '
          f'compile={args.compile}; times are medians (spread = max - min)')
    print('| model | params (M) | GFLOPs | forward ms | train step ms | saved activations MiB '
          '| page faults per train step |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    for row in rows.values():
        print(f"| {row['name']} | {row['params'] / 1e6:.2f} | {row['flops'] / 1e9:.2f} | "
              f"{row['forward_median'] * 1e3:.0f} ± {row['forward_spread'] * 1e3:.0f} | "
              f"{row['train_median'] * 1e3:.0f} ± {row['train_spread'] * 1e3:.0f} | "
              f"{row['memory_mib']:.0f} | {row['page_faults']:.0f} |")
    print('\n| ratio (median of per-round ratios, min-max) | forward | train step | '
          'saved activations |')
    print('|---|---:|---:|---:|')
    for ours in (r for r in rows.values() if r['name'].startswith('ours')):
        for other in rows.values():
            if other['family'] == ours['family'] and other is not ours:
                pair = ours.setdefault('ratios', {})[other['name']] = dict(
                    memory=ours['memory_mib'] / other['memory_mib'],
                    **{key: paired_ratio(ours[key], other[key]) for key in ('forward', 'train')})
                print(f"| {ours['name']} / {other['name']} | "
                      + ' | '.join('{median:.3f} ({min:.2f}-{max:.2f})'.format(**pair[key])
                                   for key in ('forward', 'train'))
                      + f" | {pair['memory']:.3f} |")
    if args.detector_size:
        det = detector_latencies(args.detector_size, args.rounds)
        (se, se_spread), (plain, plain_spread) = det['faster_rcnn_se_r50'], det['faster_rcnn_r50']
        print(f'\nFaster R-CNN FPN inference, one {args.detector_size}x{args.detector_size} '
              f'image: SE-R50 {se * 1e3:.0f} ± {se_spread * 1e3:.0f} ms, R50 {plain * 1e3:.0f} '
              f'± {plain_spread * 1e3:.0f} ms, ratio {se / plain:.3f}')
        rows['detectors'] = det
    if args.detector_train:
        det = detector_train_times(args.rounds)
        (plain, plain_spread), (se, se_spread) = det.values()
        print(f'\nFaster R-CNN FPN train step, toy set size (batch 4, 128x128): SE-R50 '
              f'{se * 1e3:.0f} ± {se_spread * 1e3:.0f} ms, R50 {plain * 1e3:.0f} ± '
              f'{plain_spread * 1e3:.0f} ms, ratio {se / plain:.3f}')
        rows['detector_train'] = det
    if args.profile:
        for ours in (n for n in rows if n.startswith('ours')):
            plain = [n for n in rows if n.startswith('mmdet-') and MODELS[n][0] == MODELS[ours][0]]
            if plain:
                print_profile(ours, plain[0], prepared)
    if args.breakdown:
        measured = None
        if {'ours-se-r50', 'ours-se-off-r50'} <= set(rows):
            measured = 1e3 * statistics.median(a - b for a, b in zip(
                rows['ours-se-r50']['train'], rows['ours-se-off-r50']['train']))  # paired
        rows['se_cost_parts'] = se_cost_parts(args.batch, args.size)
        print_se_cost_parts(rows['se_cost_parts'], measured)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(list(rows.values()), f, indent=1)
    return rows


if __name__ == '__main__':
    main()
