"""tools/benchmark.py's tables, ratios, extras and JSON from known measurements: dev.measure
stood in by a library that returns chosen times (fast; the real measurements run in
test_benchmark.py)."""

import argparse
import json
import sys
import types

import pytest
import torch

import tools.benchmark as benchmark

# per model: the times of the forward (or train) calls in order: the warm-up, then one a round
FORWARD = {
    'ours-se-r50': [9.0, 0.010, 0.012, 0.011],
    'mmdet-resnet50': [9.0, 0.008, 0.010, 0.010],
    'mmdet-resnet18': [9.0, 0.010, 0.01225, 0.02225],  # ms at the roundings: 12.25, 12.25
}
TRAIN = {
    'ours-se-r50': [9.0, 0.030, 0.036, 0.033],
    'mmdet-resnet50': [9.0, 0.025, 0.030, 0.030],
    'mmdet-resnet18': [9.0, 0.010, 0.01225, 0.02225],
}
MEMORY = {'ours-se-r50': 50.0, 'mmdet-resnet50': 40.0, 'mmdet-resnet18': 20.0}
FAULTS = {'ours-se-r50': 1234.4, 'mmdet-resnet50': 1000.0, 'mmdet-resnet18': 500.0}
COMPLEXITY = {
    'ours-se-r50': (28_088_024, 4_113_000_000),
    'mmdet-resnet50': (23_508_032, 4_105_000_000),
    'mmdet-resnet18': (11_175_000, 1_819_000_000),  # 11.175 M: at the rounding
}


SE_TIMES, PLAIN_TIMES = (0.1234, 0.0125), (0.2004, 0.0305)  # (median, spread) s


def stand_in():
    """A dev.measure whose calls are recorded and whose times are the tables above, the same in
    every mode (one list per model and mode, consumed in order). Each measurement checks that
    it gets the model, the input prepared for it and the setting."""
    m = types.ModuleType('dev.measure')
    m.calls, m.prepared, m.settings = [], [], []
    m.MODELS = {
        'ours-se-r50': ('r50', lambda: 'ours-se-r50'),
        'mmdet-resnet50': ('r50', lambda: 'mmdet-resnet50'),
        'mmdet-resnet18': ('r18', lambda: 'mmdet-resnet18'),
    }
    queues = {}

    def measured(value):
        def measurement(model, x, setting):
            assert x == ('input of', *model) and setting is m.settings[-1], (model, x, setting)
            return value(model)

        return measurement

    def timed(table, kind):
        return measured(
            lambda model: queues.setdefault((kind, *model), list(table[model[0]])).pop(0)
        )

    def setting(device, amp):
        m.settings.append(types.SimpleNamespace(device=torch.device(device), amp=amp))
        return m.settings[-1]

    def prepare(name, mode, batch, size, setting):
        m.prepared.append((name, mode, batch, size, setting is m.settings[-1]))
        return (name, mode), ('input of', name, mode)

    m.Setting, m.prepare = setting, prepare
    m.forward_time, m.train_time = timed(FORWARD, 'forward'), timed(TRAIN, 'train')
    m.saved_activations_mib = measured(lambda model: MEMORY[model[0]])
    m.page_faults_per_step = measured(lambda model: FAULTS[model[0]])
    m.peak_train_mib = measured(lambda model: 2 * MEMORY[model[0]])
    m.complexity = lambda name, size: m.calls.append(('complexity', name, size)) or COMPLEXITY[name]
    # milliseconds of x.4 and x.5: a factor other than 1e3 rounds them differently
    m.detector_latencies = lambda size, rounds: (
        m.calls.append(('detector', size, rounds))
        or {
            'faster_rcnn_se_r50': SE_TIMES,
            'faster_rcnn_r50': PLAIN_TIMES,
        }
    )
    m.detector_train_times = lambda rounds: (
        m.calls.append(('train', rounds))
        or {
            'faster_rcnn_r50': PLAIN_TIMES,
            'faster_rcnn_se_r50': SE_TIMES,
        }
    )
    m.print_profile = lambda ours, plain, prepared, setting: m.calls.append(
        ('profile', ours, plain, prepared, setting is m.settings[-1])
    )
    m.block_kernels = lambda train, se: ([f'fwd_{train}_{se}', 'k2'], [f'bwd_{train}_{se}'])
    return m


@pytest.fixture
def measured(monkeypatch):
    import dev

    m = stand_in()
    monkeypatch.setitem(sys.modules, 'dev.measure', m)
    monkeypatch.setattr(dev, 'measure', m, raising=False)
    return m


ROWS = [
    '| ours-se-r50 | eager | 28.09 | 4.11 | 11.0 ± 2.0 | 33.0 ± 6.0 | 50 | 1234 |',
    '| mmdet-resnet50 | eager | 23.51 | 4.11 | 10.0 ± 2.0 | 30.0 ± 5.0 | 40 | 1000 |',
    '| mmdet-resnet18 | eager | 11.18 | 1.82 | 12.2 ± 12.2 | 12.2 ± 12.2 | 20 | 500 |',
]


def test_the_tables_pair_ours_with_its_family_in_its_mode(measured, capsys, tmp_path):
    """Medians and spreads of the rounds (the warm-up left out); ratios: the median, min and
    max of the per-round ratios (forward 1.25, 1.2, 1.1; train 1.2, 1.2, 1.1), against each
    model of our family and mode, never across families or modes."""
    out = tmp_path / 'rows.json'
    threads = str(torch.get_num_threads())
    rows = benchmark.main(
        '--rounds 3 --batch 2 --size 32x48 --modes eager eager-cl --threads'.split()
        + [threads, '--models', 'ours-se-r50', 'mmdet-resnet50', 'mmdet-resnet18']
        + ['--json', str(out)]
    )
    ratio = '1.200 (1.10-1.25) | 1.200 (1.10-1.20) | 1.250 |'
    assert capsys.readouterr().out.splitlines() == [
        f'device cpu, amp off (float32), batch 2, 32x48, {threads} threads, 3 interleaved '
        'rounds; times are medians (spread = max - min)',
        '| model | mode | params (M) | GFLOPs | forward ms | train step ms | saved activations '
        'MiB | page faults per train step |',
        '|---|---|---:|---:|---:|---:|---:|---:|',
        *ROWS,
        *(row.replace('| eager |', '| eager-cl |') for row in ROWS),
        '',
        '| ratio (median of per-round ratios, min-max) | mode | forward | train step | '
        'saved activations |',
        '|---|---|---:|---:|---:|',
        f'| ours-se-r50 / mmdet-resnet50 | eager | {ratio}',
        f'| ours-se-r50 / mmdet-resnet50 | eager-cl | {ratio}',
    ]
    ours = rows['ours-se-r50 eager']
    assert ours['forward'] == [0.010, 0.012, 0.011] and ours['train_median'] == 0.033
    assert (ours['params'], ours['flops'], ours['page_faults']) == (28_088_024, 4.113e9, 1234.4)
    assert ours['ratios']['mmdet-resnet50']['forward'] == pytest.approx(
        dict(median=1.2, min=1.1, max=1.25)
    )
    assert json.loads(out.read_text()) == list(rows.values())
    assert list(rows) == [f'{n} {mode}' for mode in ('eager', 'eager-cl') for n in FORWARD]
    assert measured.prepared == [
        (name, mode, 2, (32, 48), True) for mode in ('eager', 'eager-cl') for name in FORWARD
    ]
    assert [(s.device.type, s.amp) for s in measured.settings] == [('cpu', None)]


def test_on_cuda_a_row_has_the_peak_memory_not_page_faults(measured):
    """(The table's column: test_on_cuda_the_last_column_is_the_peak_memory.)"""
    args = argparse.Namespace(modes=['eager'], models=['mmdet-resnet18'], batch=1, size=(8, 8))
    args.rounds = 1
    setting = measured.Setting('cuda', 'fp16')
    (row,) = benchmark.measure(args, measured, setting).values()
    assert row['peak_mib'] == 40.0 and 'page_faults' not in row


def test_the_extras_each_flag_asks_for(measured, capsys):
    rows = benchmark.main(
        '--rounds 2 --size 32 --batch 3 --amp bf16 --models'.split()
        + ['ours-se-r50', 'mmdet-resnet50', 'mmdet-resnet18']
        + ['--threads', str(torch.get_num_threads()), '--detector-size', '64']
        + ['--detector-train', '--profile', '--kernels']
    )
    out = capsys.readouterr().out.split('\n\n')
    assert out[2:] == [
        'Faster R-CNN FPN inference, one 64x64 image: SE-R50 123 ± 12 ms, R50 200 ± 30 ms, '
        'ratio 0.616',
        'Faster R-CNN FPN train step, toy set size (batch 4, 128x128): SE-R50 123 ± 12 ms, '
        'R50 200 ± 30 ms, ratio 0.616',
        'inductor kernels, SE bottleneck, eval (1x512x28x28 stage-2 block, batch 4):\n'
        '- forward: 2 calls: fwd_False_True, k2\n- backward: 1 calls: bwd_False_True',
        'inductor kernels, plain bottleneck, eval (1x512x28x28 stage-2 block, batch 4):\n'
        '- forward: 2 calls: fwd_False_False, k2\n- backward: 1 calls: bwd_False_False',
        'inductor kernels, SE bottleneck, train (1x512x28x28 stage-2 block, batch 4):\n'
        '- forward: 2 calls: fwd_True_True, k2\n- backward: 1 calls: bwd_True_True',
        'inductor kernels, plain bottleneck, train (1x512x28x28 stage-2 block, batch 4):\n'
        '- forward: 2 calls: fwd_True_False, k2\n- backward: 1 calls: bwd_True_False\n',
    ]
    assert rows['detectors'] == dict(faster_rcnn_se_r50=SE_TIMES, faster_rcnn_r50=PLAIN_TIMES)
    assert rows['detector_train'] == dict(faster_rcnn_r50=PLAIN_TIMES, faster_rcnn_se_r50=SE_TIMES)
    kernels = (['fwd_True_False', 'k2'], ['bwd_True_False'])
    assert rows['kernels']['plain bottleneck, train'] == kernels
    assert measured.calls == [
        *(('complexity', name, (32, 32)) for name in FORWARD),
        ('detector', 64, 2),
        ('train', 2),
        (
            'profile',
            'ours-se-r50',
            'mmdet-resnet50',
            {
                n: ((n, 'eager'), ('input of', n, 'eager'))
                for n in ('ours-se-r50', 'mmdet-resnet50')
            },
            True,
        ),
    ]
    assert measured.prepared[-2:] == [  # the profile's models, eager
        ('ours-se-r50', 'eager', 3, (32, 32), True),
        ('mmdet-resnet50', 'eager', 3, (32, 32), True),
    ]
    assert [(s.device.type, s.amp) for s in measured.settings] == [('cpu', 'bf16')]


def test_on_cuda_the_last_column_is_the_peak_memory(capsys):
    args = argparse.Namespace(device='cuda', amp='bf16', batch=1, size=(8, 8), threads=1, rounds=2)
    row = dict(name='mmdet-resnet18', mode='eager', family='r18', memory_mib=3.0, peak_mib=7.4)
    row.update(forward_median=0.001, forward_spread=0.0, train_median=0.002, train_spread=0.0)
    row['page_faults'] = 99
    benchmark.print_tables(args, {'r': row}, {'mmdet-resnet18': (1e6, 2e9)})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('device cuda, amp bf16, batch 1, 8x8, 1 threads, 2 interleaved')
    assert lines[1].endswith('| saved activations MiB | peak train MiB |')
    assert lines[3] == '| mmdet-resnet18 | eager | 1.00 | 2.00 | 1.0 ± 0.0 | 2.0 ± 0.0 | 3 | 7 |'


@pytest.mark.parametrize(
    'text, size', [('224', (224, 224)), ('800x1216', (800, 1216)), ('8X6', (8, 6)), ('1', (1, 1))]
)
def test_image_size(text, size):
    assert benchmark.image_size(text) == size


@pytest.mark.parametrize('text', ['0', '8x0', '1x2x3', 'big', '', '-4'])
def test_a_bad_image_size_is_named(text):
    with pytest.raises(argparse.ArgumentTypeError) as error:
        benchmark.image_size(text)
    assert str(error.value) == f"expected a size like 224 or 800x1216, got '{text}'"


def test_cuda_without_cuda_ends_with_one_line(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(SystemExit) as exit_:
        benchmark.parse_args(['--device', 'cuda'])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f'benchmark.py: --device cuda: no CUDA device here (torch {torch.__version__}, built '
        f'with CUDA {torch.version.cuda}); use --device cpu\n'
    )
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert benchmark.parse_args(['--device', 'cuda']).device == 'cuda'


@pytest.mark.parametrize('option', ['--modes', '--models'])
def test_an_unknown_mode_or_model_is_refused(option, capsys):
    with pytest.raises(SystemExit) as exit_:
        benchmark.parse_args([option, 'eagr'])
    assert exit_.value.code == 2
    assert f"argument {option}: invalid choice: 'eagr'" in capsys.readouterr().err
