"""tools/setup.sh fails with one line saying why and leaves the previous .venv usable.

Each test points the setup at a scratch .venv (a symlink to a stand-in "previous" environment,
whose python works) and breaks one thing: the network, the compiler, the mmcv build.
"""

import os
import subprocess
import sys
import sysconfig

import pytest

from tests.configs.toy import ROOT

SETUP = os.path.join(ROOT, 'tools', 'setup.sh')

# The failure handling does not depend on the stack: checked once, in the current stack's run.
pytestmark = pytest.mark.skipif(
    os.environ.get('SE_BACKBONES_STACK', 'current') != 'current',
    reason="setup.sh's failures are tested in the current stack's run",
)


@pytest.fixture
def scratch(tmp_path):
    """A previous environment (its python imports torch; the stamp of another setup) behind a
    .venv link."""
    envs = tmp_path / 'envs'
    previous = envs / 'previous'
    (previous / 'bin').mkdir(parents=True)
    # a working venv: this one's interpreter, config and packages, seen through links
    os.symlink(sys.executable, previous / 'bin' / 'python')
    os.symlink(os.path.join(sys.prefix, 'pyvenv.cfg'), previous / 'pyvenv.cfg')
    os.symlink(os.path.join(sys.prefix, 'lib'), previous / 'lib')
    (previous / '.se_backbones_setup').write_text('an older setup\n')
    link = tmp_path / '.venv'
    os.symlink(previous, link)
    empty = tmp_path / 'empty'
    empty.mkdir()
    env = dict(
        os.environ,
        SE_BACKBONES_STACK='current',
        SE_BACKBONES_VENV=str(link),
        SE_BACKBONES_ENVS=str(envs),
        SE_BACKBONES_WHEELHOUSE=str(empty),
        SE_BACKBONES_SHARED_WHEELS=str(empty),
        XDG_CACHE_HOME=str(tmp_path / 'cache'),
        PIP_DISABLE_PIP_VERSION_CHECK='1',
    )
    env.pop('VIRTUAL_ENV', None)
    return dict(tmp=tmp_path, link=link, previous=previous, envs=envs, env=env)


def run_setup(scratch, timeout=900, drop=(), **env):
    env = {k: v for k, v in dict(scratch['env'], **env).items() if k not in drop}
    result = subprocess.run(
        ['bash', SETUP],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=scratch['tmp'],
    )
    return result.returncode, result.stderr


def assert_failed_cleanly(scratch, code, stderr, reason):
    assert code == 1, stderr
    failed = [line for line in stderr.splitlines() if 'FAILED' in line]
    assert len(failed) == 1, stderr
    assert reason in failed[0], failed[0]
    assert 'the previous environment' in failed[0] and 'is unchanged and still usable' in failed[0]
    assert os.readlink(scratch['link']) == str(scratch['previous'])
    python = scratch['link'] / 'bin' / 'python'
    assert subprocess.run([str(python), '-c', 'import torch'], timeout=120).returncode == 0
    leftovers = [
        p for p in os.listdir(scratch['envs']) if p != 'previous' and not p.endswith('.log')
    ]
    assert leftovers == [], leftovers  # the half-built environment is gone


def fake_wheelhouse(scratch):
    """A wheelhouse with a file of mmcv's wheel name: enough to pass the compiler check."""
    house = scratch['tmp'] / 'wheelhouse'
    house.mkdir()
    (house / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl').write_bytes(b'not a wheel')
    return str(house)


def test_no_network(scratch):
    """No index reachable (and no local wheel directories: pip's config files and
    PIP_FIND_LINKS are dropped)."""
    code, stderr = run_setup(
        scratch,
        drop=('PIP_FIND_LINKS', 'PIP_EXTRA_INDEX_URL'),
        SE_BACKBONES_WHEELHOUSE=fake_wheelhouse(scratch),
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL='http://127.0.0.1:9/simple',
        PIP_RETRIES='0',
        PIP_DEFAULT_TIMEOUT='3',
        PIP_NO_CACHE_DIR='1',
    )
    assert_failed_cleanly(
        scratch,
        code,
        stderr,
        "step 'install the current stack (torch 2.14.1; "
        "requirements/current.txt)': pip could not reach the package index "
        '(no network?',
    )


def test_no_compiler_and_no_wheel(scratch):
    code, stderr = run_setup(scratch, CXX='/nonexistent/c++')
    assert_failed_cleanly(scratch, code, stderr, "no C++ compiler ('/nonexistent/c++')")
    assert "step '" not in stderr  # caught before anything was installed


def python_sharing_these_packages(tmp):
    """A python3.11 whose new venvs see this environment's packages (a .pth file), so the
    setup's torch step finds torch installed instead of writing 6 GB again."""
    site = sysconfig.get_paths()['purelib']
    wrapper = tmp / 'python3.11'
    wrapper.write_text(f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  "{sys.executable}" -m venv "$3" && echo "{site}" > "$3/lib/python3.11/site-packages/shared.pth"
  exit $?
fi
exec "{sys.executable}" "$@"
""")
    wrapper.chmod(0o755)
    return str(wrapper)


def test_failed_mmcv_build(scratch):
    """A compiler that fails (`false`): the mmcv sdist downloads, the build fails; the message
    names the build and what to install."""
    code, stderr = run_setup(
        scratch, CXX='false', CC='false', PYTHON=python_sharing_these_packages(scratch['tmp'])
    )
    assert_failed_cleanly(
        scratch, code, stderr, "step 'build mmcv 2.1.0 with ops': compiling mmcv 2.1.0 failed"
    )
    assert 'build-essential' in stderr
    assert not list((scratch['tmp'] / 'cache').glob('**/*.whl'))  # nothing half-built cached
