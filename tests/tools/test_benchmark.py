"""tools/benchmark.py: the side-by-side table, its modes and devices (tiny sizes: the code
path, not the figures; the figures are docs/benchmarks.md's)."""

import subprocess
import sys

import pytest
import torch

from tools.benchmark import MODE_NAMES, main

TINY = '--batch 1 --size 64 --rounds 1'.split()  # the code path, not the figures


def test_side_by_side_table_in_every_mode(capsys):
    """All four modes in one table (SE-R18 and ResNet-18: compiling is the slow part)."""
    rows = main(
        [
            *TINY,
            '--modes',
            *MODE_NAMES,
            '--models',
            'ours-se-r18',
            'mmdet-resnet18',
            '--amp',
            'bf16',
        ]
    )
    out = capsys.readouterr().out
    assert 'device cpu, amp bf16, batch 1, 64x64' in out
    for mode in MODE_NAMES:
        ours, plain = rows[f'ours-se-r18 {mode}'], rows[f'mmdet-resnet18 {mode}']
        # two blocks a stage, each C -> s -> C with s = C / 16 rounded up to 8: weights, biases
        assert ours['params'] == plain['params'] + sum(
            2 * (2 * c * max(8, c // 16) + max(8, c // 16) + c) for c in (64, 128, 256, 512)
        )
        assert ours['forward_median'] > 0 and ours['train_median'] > 0
        assert 0 < plain['memory_mib'] and 0 < ours['memory_mib']
        assert f'| ours-se-r18 / mmdet-resnet18 | {mode} |' in out
    # eager: the fused block end keeps no more than plain ResNet (+ the SE layers' tiny tensors)
    assert (
        rows['ours-se-r18 eager']['memory_mib'] < 1.05 * rows['mmdet-resnet18 eager']['memory_mib']
    )


def test_profile_detector_and_kernels(capsys):
    rows = main(
        [
            *TINY,
            '--models',
            'ours-se-r50',
            'mmdet-resnet50',
            'timm-seresnet50',
            '--detector-size',
            '64',
            '--profile',
            '--kernels',
        ]
    )
    out = capsys.readouterr().out
    assert '| ours-se-r50 / timm-seresnet50 | eager |' in out
    assert 'Faster R-CNN FPN inference, one 64x64 image: SE-R50 ' in out
    assert all(median > 0 for median, _ in rows['detectors'].values())
    profile = out.split('forward profile, ours-se-r50 vs mmdet-resnet50 (medians of 5)')[1]
    assert '| operator | ours ms | plain ms | extra ms |' in profile
    assert ' | 0.00 | +' in profile  # SE's own operators, which plain ResNet never runs
    se_train, plain_train = (rows['kernels'][f'{k} bottleneck, train'] for k in ('SE', 'plain'))
    assert len(se_train) == len(plain_train) == 2  # forward and backward graphs
    assert any('mean' in name and 'batch_norm' in name for name in se_train[0])
    assert not any('mean' in name for name in plain_train[0])


def test_cuda_without_cuda_says_so_in_one_line():
    if torch.cuda.is_available():
        pytest.skip('this machine has CUDA')
    result = subprocess.run(
        [sys.executable, 'tools/benchmark.py', '--device', 'cuda'], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1 and 'no CUDA device here' in result.stderr


def test_the_whole_table_command_runs_on_the_cpu():
    result = subprocess.run(
        [
            'bash',
            'tools/benchmark_all.sh',
            '--device',
            'cpu',
            '--batch',
            '1',
            '--size',
            '64',
            '--rounds',
            '1',
            '--models',
            'ours-se-r18',
            'mmdet-resnet18',
            '--modes',
            'eager',
            'eager-cl',
        ],
        capture_output=True,
        text=True,
        env={'PATH': '/usr/bin:/bin', 'PYTHON': sys.executable, 'BENCHMARK_AMP': 'bf16'},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count('| ours-se-r18 / mmdet-resnet18 | eager-cl |') == 2
    assert '### autocast: off (float32)' in result.stdout
    assert '### autocast: bf16' in result.stdout
