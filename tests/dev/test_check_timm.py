"""dev/check_timm.py, run as a developer runs it (no test imports a developer tool)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_prints_the_readme_table(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / 'dev' / 'check_timm.py'),
            'seresnet18',
            'legacy_seresnext26_32x4d',
            '--size',
            '64',
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = result.stdout.splitlines()
    assert rows[0] == '| timm model | our backbone config | max rel. error |'
    assert rows[2].startswith('| seresnet18 | SEResNet(depth=18) | ')
    assert rows[3].startswith('| legacy_seresnext26_32x4d | SEResNeXt(depth=26, groups=32, ')
    assert all(float(row.rsplit('|', 2)[1]) < 1e-5 for row in rows[2:])
