"""What the installed package imports: only what pyproject.toml declares at module level, and
no import from the model code (layers, backbones, weights) up into the harness."""

import ast
import functools
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'se_backbones'
MODEL_CODE = ('layers', 'backbones', 'weights')
HARNESS = ('engine', 'twin', 'config_twin', 'data', 'tools')


def modules():
    return sorted(PACKAGE.rglob('*.py'))


def imported(path, module_level_only):
    """(line, absolute dotted name) of each import in ``path``; relative ones are resolved."""
    package = path.relative_to(ROOT).with_suffix('').parts[:-1]
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            name = '.'.join([*base, *([node.module] if node.module else [])])
            yield node.lineno, name
            if not node.module:  # from . import x
                for alias in node.names:
                    yield node.lineno, f'{name}.{alias.name}'


@functools.cache
def distributions_of():
    return packages_distributions()


@functools.cache
def declared_distributions():
    project = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']
    return {
        re.split(r'[<>=!~\[ ;]', requirement)[0].lower().replace('_', '-')
        for requirement in project['dependencies']
    }


@pytest.mark.parametrize('path', modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_level_imports_are_declared(path):
    """A module-level import of another distribution names a declared dependency; anything
    else (cv2, mmpretrain) is imported inside the function that needs it."""
    declared, owners = declared_distributions(), distributions_of()
    undeclared = []
    for line, name in imported(path, module_level_only=True):
        top = name.split('.')[0]
        if top in sys.stdlib_module_names or top in ('se_backbones', '__future__'):
            continue
        distributions = {d.lower().replace('_', '-') for d in owners.get(top, [top])}
        if not distributions & declared:
            undeclared.append(f'line {line}: {name} ({", ".join(sorted(distributions))})')
    assert not undeclared, f'{path.name}: undeclared module-level imports: {undeclared}'


@pytest.mark.parametrize(
    'path',
    [p for p in modules() if p.relative_to(PACKAGE).parts[0] in MODEL_CODE],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_model_code_imports_no_harness(path):
    """layers, backbones and weights import nothing from the training harness, the SE twin or
    the tools, anywhere in the module; weights imports no backbone module (it builds the
    reference backbones by name, through the registry)."""
    part = path.relative_to(PACKAGE).parts[0]
    forbidden = [f'se_backbones.{name}' for name in HARNESS] + ['tools']
    if part == 'weights':
        forbidden.append('se_backbones.backbones')
    found = [
        f'line {line}: {name}'
        for line, name in imported(path, module_level_only=False)
        if any(name == f or name.startswith(f + '.') for f in forbidden)
    ]
    assert not found, f'{path.relative_to(ROOT)} imports {found}'
