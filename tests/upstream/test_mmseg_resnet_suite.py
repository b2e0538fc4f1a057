"""mmseg's own ResNet tests (the file its wheel installs), unchanged, against our classes.

The file runs in a fresh pytest with :mod:`tests.upstream.mmseg_substitute`, whose fixture
puts ``SEResNet`` and our blocks under mmseg's names (what runs with SE on, what with it off,
and why: that module's docstring; the differences allowed: docs/compatibility.md).
"""

import os
import re
import subprocess
import sys
from importlib.metadata import distribution

import pytest

SUITE = 'tests/test_models/test_backbones/test_resnet.py'
TESTS = (
    'test_resnet_basic_block',
    'test_resnet_bottleneck',
    'test_resnet_res_layer',
    'test_resnet_backbone',
)


def run_suite(tmp_path, *args, plant=None):
    """pytest on mmseg's file with our substitutes; returns (exit code, output)."""
    path = distribution('mmsegmentation').locate_file(SUITE)
    if not os.path.isfile(path):
        pytest.fail(f'mmsegmentation no longer installs {SUITE}')
    (tmp_path / 'pytest.ini').write_text('[pytest]\n')
    # only this folder on the path: the project root's `tests` would hide mmseg's `tests`
    env = dict(os.environ, PYTHONPATH=os.path.dirname(__file__))
    env.pop('SE_BACKBONES_PLANT', None)
    if plant:
        env['SE_BACKBONES_PLANT'] = plant
    result = subprocess.run(
        [
            sys.executable,
            '-m',
            'pytest',
            str(path),
            '-p',
            'mmseg_substitute',
            '-c',
            str(tmp_path / 'pytest.ini'),
            '--rootdir',
            str(tmp_path),
            '-p',
            'no:cacheprovider',
            '-q',
            '-rA',
            *args,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return result.returncode, result.stdout + result.stderr


def outcomes(output):
    """{test name: 'PASSED' | 'FAILED' | ...} from pytest's -rA summary."""
    return dict(
        (name, outcome)
        for outcome, name in re.findall(
            r'^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) \S*::(\w+)', output, re.MULTILINE
        )
    )


def test_mmseg_resnet_tests_pass_against_ours(tmp_path):
    code, output = run_suite(tmp_path)
    assert outcomes(output) == dict.fromkeys(TESTS, 'PASSED'), output[-3000:]
    assert code == 0, output[-3000:]


def test_the_suite_catches_errors_without_the_toolkits_type(tmp_path):
    """The bug of issue #25, planted: a duplicate plugin and an unknown depth raise our errors
    without mmdet's AssertionError/KeyError, and mmseg's tests fail."""
    code, output = run_suite(
        tmp_path, '-k', 'test_resnet_bottleneck or test_resnet_backbone', plant='plain_errors'
    )
    assert outcomes(output) == dict(
        test_resnet_bottleneck='FAILED', test_resnet_backbone='FAILED'
    ), output[-3000:]
    assert 'PluginBuildError' in output and 'SEResNet: depth must be' in output, output[-3000:]
