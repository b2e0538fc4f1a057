"""The plugin installs into an environment that already holds an OpenMMLab stack without
changing it, and builds as a wheel with that environment's own setuptools.

Run on each tested stack (tools/test.sh runs the suite in both), so on the classic one this is
"a user's existing torch 2.1 / numpy 1.26 / mmcv 2.1 environment"."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from tests.configs.toy import ROOT

# What a user's compiled mmcv and their toolkits depend on: pip must not touch any of them.
KEPT = (
    'torch',
    'torchvision',
    'numpy',
    'mmcv',
    'mmengine',
    'setuptools',
    'mmdet',
    'mmsegmentation',
    'opencv-python',
    'timm',
)


def pip(*args, timeout=900):
    result = subprocess.run(
        [sys.executable, '-m', 'pip', *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK='1'),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def source_copy(tmp_path):
    """The project's sources in ``tmp_path``: building in place would leave build/ and
    *.egg-info in the checkout."""
    src = tmp_path / 'src'
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            '.git',
            '.venv*',
            '.hypothesis',
            'build',
            'data',
            'work_dirs',
            '*.egg-info',
            '__pycache__',
        ),
    )
    return str(src)


def test_pip_would_change_nothing_of_the_stack(tmp_path):
    report = tmp_path / 'report.json'
    pip(
        'install',
        '--dry-run',
        '--report',
        str(report),
        '--no-build-isolation',
        source_copy(tmp_path),
    )
    planned = {
        item['metadata']['name'].lower().replace('_', '-'): item['metadata']['version']
        for item in json.loads(report.read_text())['install']
    }
    changed = sorted(set(planned) & set(KEPT))
    assert changed == [], f'pip would install or replace: {planned}'
    assert set(planned) <= {'se-backbones'}, planned


def test_the_wheel_builds_with_this_setuptools_and_declares_ranges(tmp_path):
    pip('wheel', '--no-deps', '--no-build-isolation', '-w', str(tmp_path), source_copy(tmp_path))
    (wheel,) = tmp_path.glob('se_backbones-*.whl')
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(
            next(n for n in archive.namelist() if n.endswith('.dist-info/METADATA'))
        ).decode()
    requires = {
        line.split(':', 1)[1].strip()
        for line in metadata.splitlines()
        if line.startswith('Requires-Dist:')
    }
    declared = {str(Requirement(r)) for r in pyproject()['dependencies']}
    assert {str(Requirement(r)) for r in requires if 'extra ==' not in r} == declared
    assert not any(r.startswith('setuptools') for r in requires)
    assert not any('==' in r.split(';')[0] for r in requires), requires  # ranges, not pins


CONFIG = """
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['se_backbones'], allow_failed_imports=False)
model = dict(backbone=dict(_delete_=True, type='se_backbones.SEResNet', depth=50,
                           frozen_stages=1, norm_eval=True, out_indices=(0, 1, 2, 3)))
"""


def test_an_mmdet_base_config_with_custom_imports_builds(tmp_path):
    config = tmp_path / 'faster_rcnn_se_r50.py'
    config.write_text(CONFIG)
    script = textwrap.dedent("""
        import sys
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        from mmdet.registry import MODELS
        cfg = Config.fromfile(sys.argv[1])
        init_default_scope('mmdet')
        detector = MODELS.build(cfg.model)
        print(type(detector).__name__, type(detector.backbone).__module__)
    """)
    result = subprocess.run(
        [sys.executable, '-c', script, str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ['FasterRCNN', 'se_backbones.backbones.seresnet']


def pyproject():
    return tomllib.loads((Path(ROOT) / 'pyproject.toml').read_text())['project']


def locked_versions():
    """{distribution: [its version in each lock file that pins it]}; mmcv, built against each
    stack's torch, is pinned in tools/setup.sh."""
    setup = (Path(ROOT) / 'tools' / 'setup.sh').read_text()
    versions = {'mmcv': [Version(re.search(r'^MMCV_VERSION=(\S+)', setup, re.M).group(1))]}
    for lock in sorted((Path(ROOT) / 'requirements').glob('*.txt')):
        for line in lock.read_text().splitlines():
            if '==' in line and not line.startswith('#'):
                name, version = line.split('==')
                versions.setdefault(name.strip().lower().replace('_', '-'), []).append(
                    Version(version.strip())
                )
    return versions


def test_declared_floors_are_the_lowest_tested_versions():
    """Every floor of what the plugin runs with (its dependencies and the [mmpretrain] extra;
    not the test and developer tools) is the lowest version a tested stack pins: a range admits
    no older release that no stack has run."""
    locked = locked_versions()
    requirements = pyproject()['dependencies'] + pyproject()['optional-dependencies']['mmpretrain']
    floors = {}
    for requirement in map(Requirement, requirements):
        for spec in requirement.specifier:
            if spec.operator == '>=':
                floors[requirement.name.lower().replace('_', '-')] = Version(spec.version)
    wrong = {
        name: f'declared >= {floor}, lowest tested {min(locked[name], default=None)}'
        for name, floor in floors.items()
        if floor != min(locked.get(name, []), default=None)
    }
    assert not wrong, wrong
    assert {'torch', 'mmcv', 'mmengine', 'mmdet', 'mmsegmentation', 'timm'} <= set(floors)
