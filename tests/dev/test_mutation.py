"""dev/mutation.py stays in step with the code (every module and test it names exists) and
narrows mutmut's configuration to one module; fast: no mutant is run."""

import importlib.util
import os
import subprocess
import sys
import tomllib
import types

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, 'dev', 'mutation.py')


@pytest.fixture(scope='module')
def mutation():
    spec = importlib.util.spec_from_file_location('dev_mutation', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_module_and_test_path_exists(mutation):
    for module, tests in mutation.MODULES.items():
        assert os.path.isfile(os.path.join(ROOT, module)), module
        paths = [
            t
            for i, t in enumerate(tests)
            if not t.startswith('-') and (i == 0 or tests[i - 1] != '-k')
        ]
        assert paths, module
        for path in paths:
            assert os.path.exists(os.path.join(ROOT, path.split('::')[0])), (module, path)


def test_the_run_config_is_the_repo_s_narrowed_to_one_module(mutation):
    text = mutation.pyproject_for('se_backbones/checks.py', ['tests/test_checks.py'])
    config = tomllib.loads(text)
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as f:
        repo = tomllib.load(f)
    assert config['tool']['mutmut'] == {
        **repo['tool']['mutmut'],
        'only_mutate': ['se_backbones/checks.py'],
        'pytest_add_cli_args_test_selection': ['tests/test_checks.py'],
        'use_git_change_detection': False,
    }
    assert config['project'] == repo['project']
    assert config['tool']['pytest'] == repo['tool']['pytest']


def test_equivalents_are_read_from_the_doc(mutation, tmp_path):
    doc = tmp_path / 'doc.md'
    doc.write_text(
        '| mutant | change | why |\n|---|---|---|\n'
        '| `se_backbones.registry.xǁ_Registryǁget__mutmut_17` | n | only one |\n'
        '| `se_backbones.checks.x_fail__mutmut_2` | a | b |\n'
        'text `se_backbones.checks.x_fail__mutmut_3` outside the table\n'
    )
    assert mutation.documented_equivalents(str(doc)) == {
        'se_backbones.registry.xǁ_Registryǁget__mutmut_17',
        'se_backbones.checks.x_fail__mutmut_2',
    }
    assert mutation.documented_equivalents(str(tmp_path / 'none.md')) == set()


def test_a_survivor_fails_the_run_unless_documented(mutation, monkeypatch):
    monkeypatch.setattr(
        mutation, 'status', {1: 'killed', 0: 'survived', 36: 'timeout', 33: 'no tests'}.get
    )
    codes = {'m.x_f__mutmut_1': 1, 'm.x_f__mutmut_2': 0}
    row = mutation.summarize('m.py', codes, set(), 1.0, False)
    assert (row['killed'], row['equivalent'], row['survived'], row['ok']) == (
        1,
        0,
        ['m.x_f__mutmut_2'],
        False,
    )
    row = mutation.summarize('m.py', codes, {'m.x_f__mutmut_2'}, 1.0, False)
    assert (row['equivalent'], row['survived'], row['ok']) == (1, [], True)
    assert not mutation.summarize('m.py', codes, {'m.x_f__mutmut_2'}, 1.0, True)['ok']
    many = {f'm.x_f__mutmut_{i}': 1 for i in range(19)}
    assert mutation.summarize('m.py', {**many, 'm.x_f__mutmut_99': 36}, set(), 1.0, False)['ok']
    assert not mutation.summarize('m.py', {'a': 1, 'b': 36}, set(), 1.0, False)['ok']
    assert not mutation.summarize('m.py', {'a': 1, 'b': 33}, set(), 1.0, False)['ok']


@pytest.mark.parametrize(
    'args, message',
    [
        ([], 'name modules, or give --all or --changed BASE'),
        (['--all', 'se_backbones/checks.py'], 'one of them'),
        (['se_backbones/nothing.py'], 'not in MODULES: se_backbones/nothing.py'),
        (['--all', '--jobs', '0'], '--jobs and --budget must be positive'),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message):
    result = subprocess.run(
        [sys.executable, SCRIPT, *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 2
    assert message in result.stderr.strip().splitlines()[-1]


def test_list_names_each_module_and_its_tests():
    result = subprocess.run(
        [sys.executable, SCRIPT, '--list'], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0
    assert 'se_backbones/checks.py: tests/test_checks.py' in result.stdout


def test_a_changed_module_drops_mutmuts_test_map(mutation, tmp_path):
    """mutmut maps functions to tests once: after the module changes, a new function would be
    run against the new tests only. The map is kept while the module is unchanged."""
    stats = tmp_path / 'mutants' / 'mutmut-stats.json'
    stats.parent.mkdir()

    def run():
        stats.write_text('{}')
        mutation.forget_a_stale_test_map(str(tmp_path), 'se_backbones/registry.py')
        return stats.exists()

    assert not run()  # not known: dropped
    assert run()  # unchanged: kept
    (tmp_path / 'source.sha256').write_text('0' * 64)  # the module changed since
    assert not run()
    assert run()


def test_report_runs_nothing_and_tables_the_kept_results(mutation, tmp_path, monkeypatch, capsys):
    """``--report``: the table of what earlier runs kept; a module never run fails it."""
    monkeypatch.setattr(mutation, 'RUNS', str(tmp_path))
    monkeypatch.setattr(mutation, 'status', {1: 'killed', 0: 'survived'}.get)
    monkeypatch.setattr(mutation, 'documented_equivalents', lambda: {'m.x_f__mutmut_2'})
    monkeypatch.setattr(mutation, 'MODULES', {'se_backbones/m.py': [], 'se_backbones/n.py': []})
    meta = tmp_path / 'se_backbones.m' / 'mutants' / 'se_backbones' / 'm.py.meta'
    meta.parent.mkdir(parents=True)
    meta.write_text('{"exit_code_by_key": {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 0}}')
    monkeypatch.setattr(mutation.subprocess, 'Popen', None)  # nothing may run
    monkeypatch.setitem(sys.modules, 'mutmut', types.ModuleType('mutmut'))  # CI has none
    assert mutation.main(['se_backbones/m.py', '--report', '--markdown']) == 0
    assert '| se_backbones/m.py | 2 | 1 | 1 | 0 | 0 | 0 | 0.0 min |' in capsys.readouterr().out
    assert mutation.main(['--all', '--report']) == 1  # n.py: not run
