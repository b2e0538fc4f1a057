"""Time and memory of ``import se_backbones`` next to the toolkits it subclasses.

Each import runs in a fresh interpreter; rounds are interleaved and medians reported, with the
spread (min-max). What the plugin adds is ``se_backbones`` minus ``mmdet.models, mmseg.models``
(which it imports anyway, as every mmdet/mmseg config does).

    python dev/import_cost.py [--rounds 5]
"""

import argparse
import statistics
import subprocess
import sys

IMPORTS = ('mmdet.models', 'mmseg.models', 'mmdet.models, mmseg.models', 'se_backbones')
PROBE = (
    'import resource, time; t = time.perf_counter(); import {}; '
    'print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)'
)


def measure(module):
    """(seconds, peak RSS in MiB) of importing ``module`` in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, '-c', PROBE.format(module)], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[-2]), int(out[-1]) / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument('--rounds', type=int, default=5, help='interleaved rounds per import')
    args = parser.parse_args(argv)
    results = {name: [] for name in IMPORTS}
    for _ in range(args.rounds):
        for name in IMPORTS:
            results[name].append(measure(name))
    print('| import | time (s), median [min-max] | peak RSS (MiB), median |')
    print('|---|---:|---:|')
    medians = {}
    for name, runs in results.items():
        times, rss = [t for t, _ in runs], [m for _, m in runs]
        medians[name] = statistics.median(times), statistics.median(rss)
        print(
            f'| `{name}` | {medians[name][0]:.2f} [{min(times):.2f}-{max(times):.2f}] '
            f'| {medians[name][1]:.0f} |'
        )
    base, ours = medians['mmdet.models, mmseg.models'], medians['se_backbones']
    print(
        f'\nse_backbones adds {ours[0] - base[0]:+.2f} s and {ours[1] - base[1]:+.0f} MiB to '
        'importing mmdet.models and mmseg.models'
    )
    return medians


if __name__ == '__main__':
    main()
