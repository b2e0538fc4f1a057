"""The written twin: portable bases (a toolkit config by its name, other absolute paths as they
are), so that a moved twin still loads; the overrides the Changes write."""

import os
import shutil

import pytest
from mmengine.config import Config

from se_backbones.twin import Change, TwinError, fmt, make_se_config
from se_backbones.twin.base import base_path
from se_backbones.twin.context import Context
from se_backbones.twin.render import base_reference, overrides, render, write_checked
from se_backbones.twin.weights import Target

RETINA = 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py'
LEGACY = 'mmdet::legacy_1.x/retinanet_r50_fpn_1x_coco_v1.py'  # a dot in a folder name


def test_a_toolkit_config_given_by_path_is_written_by_name_and_the_twin_moves(tmp_path):
    path = base_path(RETINA)  # .../site-packages/mmdet/.mim/configs/...: absolute
    out = tmp_path / 'a' / 'twin.py'
    make_se_config(path, str(out), arch='se_r18')
    assert f"_base_ = '{RETINA}'" in out.read_text()
    moved = tmp_path / 'elsewhere' / 'deeper' / 'twin.py'
    moved.parent.mkdir(parents=True)
    shutil.move(out, moved)
    assert Config.fromfile(str(moved)).model.backbone.type == 'se_backbones.SEResNet'


def test_an_absolute_base_stays_absolute_and_the_twin_moves(tmp_path):
    base = tmp_path / 'mine.py'
    base.write_text(f"_base_ = '{RETINA}'\n")
    out = tmp_path / 'twins' / 'twin.py'
    make_se_config(str(base), str(out), arch='se_r18')
    assert f"_base_ = '{base}'" in out.read_text()
    moved = tmp_path / 'moved.py'
    shutil.move(out, moved)
    assert Config.fromfile(str(moved)).model.backbone.depth == 18


def test_overrides_write_each_change_at_its_path():
    top, model = overrides(
        [
            Change('model.backbone._delete_', None, True, 'replaced', 'set'),
            Change('model.backbone.depth', 50, 18, 'arch'),
            Change('model.backbone.groups', 32, 1, 'arch', write=False),
            Change('model.neck[0].in_channels', [2], [1], 'w', write=('model.neck', [dict(a=1)])),
            Change.note('a note'),
            Change('load_from', 'x.pth', None, 'plain'),
        ]
    )
    assert top == {'load_from': None}
    assert model == {'backbone': {'_delete_': True, 'depth': 18}, 'neck': [{'a': 1}]}


def test_fmt_one_line_up_to_96_characters_then_one_item_a_line():
    fits = dict(k='x' * 78)  # "dict(k='...')": 88 characters after the 8 of 'model = '
    assert fmt(fits, 0, 8) == f"dict(k='{'x' * 78}')"
    assert fmt(fits, 1, 8) == f"dict(\n     k='{'x' * 78}')"
    assert fmt(fits, 0, 9) == f"dict(\n    k='{'x' * 78}')"
    value = dict(a=list(range(40)), b={'not-id': ('y' * 90,)}, c=dict())
    numbers = ',\n'.join(f'            {i}' for i in range(40))
    assert fmt(value, 4) == (
        'dict(\n'
        f'        a=[\n{numbers}],\n'
        '        b={\n'
        "            'not-id': (\n"
        f"                '{'y' * 90}',)}},\n"
        '        c=dict())'
    )
    assert fmt([1, (2,)], 0) == '[1, (2,)]' and fmt((), 0) == '()'
    assert fmt({1: 'a', 2: None}, 0) == "{1: 'a', 2: None}"
    assert fmt(('z' * 100, 'w'), 0) == f"(\n    '{'z' * 100}',\n    'w')"
    assert fmt({'a b': 'z' * 100}, 0) == f"{{\n    'a b': '{'z' * 100}'}}"


def test_a_twin_that_mmengine_cannot_load_is_not_written_and_its_folders_go(tmp_path):
    out = tmp_path / 'new' / 'deeper' / 'twin.py'
    with pytest.raises(TwinError) as error:
        write_checked('model = dict(\n', str(out))
    assert str(error.value).startswith('the twin does not load (SyntaxError: ')
    assert str(error.value).endswith('); nothing written')
    assert os.listdir(tmp_path) == []
    (tmp_path / 'kept').mkdir()
    with pytest.raises(TwinError):
        write_checked('model = dict(\n', str(tmp_path / 'kept' / 'new' / 'twin.py'))
    assert os.listdir(tmp_path) == ['kept'] and os.listdir(tmp_path / 'kept') == []


def test_a_relative_base_is_relative_to_the_twin_and_without_out_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert base_reference('mine.py', 'twins/a/x.py') == (os.path.join('..', '..', 'mine.py'), [])
    assert base_reference('mine.py', None) == (str(tmp_path / 'mine.py'), [])
    assert base_reference(str(tmp_path / 'mine.py'), 'x.py') == (str(tmp_path / 'mine.py'), [])


def test_a_toolkit_config_mmengine_cannot_inherit_by_name_is_inherited_by_path():
    name = LEGACY
    reference, [note] = base_reference(name, 'x.py')
    assert reference == base_path(name) and os.path.isabs(reference)
    assert note.kind == 'note' and note.reason == (
        f'MMEngine cannot inherit {name!r} by name (a dot in a folder name): _base_ is its '
        f'file, {reference}'
    )
    assert base_reference(RETINA, 'x.py') == (RETINA, [])


def one_line(n):
    """A list of one string whose one-line form (``['xx...x']``) is ``n`` characters."""
    return ['x' * (n - 4)]


def test_fmt_each_nested_item_splits_past_96_characters_counting_its_key_and_indent():
    # in a split list, an item has its 4 indent: 92 characters still fit, its own items then
    # take 4 more (as in the split dict and list below)
    fits, splits = one_line(92), one_line(93)
    x92, x93 = f"'{'x' * 88}'", f"'{'x' * 89}'"
    assert fmt([fits, 1], 0) == f'[\n    [{x92}],\n    1]'
    assert fmt([splits, 1], 0) == f'[\n    [\n        {x93}],\n    1]'
    # `k=` after the 4 indent: 90 fit; `'a b': ` (7 characters): 85 fit
    x90, x91, x85, x86 = (f"'{'x' * (n - 4)}'" for n in (90, 91, 85, 86))
    assert fmt(dict(k=one_line(90), j=one_line(91)), 0) == (
        f'dict(\n    k=[{x90}],\n    j=[\n        {x91}])'
    )
    assert fmt({'a b': one_line(85), 'c d': one_line(86)}, 0) == (
        f"{{\n    'a b': [{x85}],\n    'c d': [\n        {x86}]}}"
    )


@pytest.mark.parametrize('model_width', [88, 89])  # after 'model = ': fits, splits
def test_render_writes_the_header_base_imports_and_overrides_one_line_up_to_96(model_width):
    ctx = Context(
        {'custom_imports': dict(imports='json')}, 'mmdet', Target('se_r18', 'seresnet18'), 'b.py'
    )
    a = 'x' * (model_width - 22)  # dict(a=['...'], b=2, c=1)
    items = [
        Change('k', None, one_line(92), 'top', kind='set'),  # 'k = ' and 92: fits
        Change('jj', None, one_line(92), 'top', kind='set'),  # 'jj = ' and 92: splits
        Change('model.a', None, [a], 'a', kind='set'),
        Change('model.b', 1, 2, 'why'),
        Change('model.c', 1, 1, 'same'),  # not a change: written, not shown
    ]
    model = (
        f"dict(a=['{a}'], b=2, c=1)"
        if model_width == 88
        else f"dict(\n    a=['{a}'],\n    b=2,\n    c=1)"
    )
    assert render(ctx, items, '../b.py') == (
        '# SE twin of b.py: se_r18 (untrained)\n'
        '# written by se_backbones.twin.make_se_config (tools/make_se_config.py); changes:\n'
        '#   model.b: 1 -> 2 (why)\n'
        "_base_ = '../b.py'\n"
        "custom_imports = dict(imports=['json', 'se_backbones'], allow_failed_imports=False)\n"
        f"k = ['{'x' * 88}']\n"
        f"jj = [\n    '{'x' * 88}']\n"
        f'model = {model}\n'
    )


def test_a_twin_that_changes_no_model_setting_writes_an_empty_model_override():
    ctx = Context({}, 'mmdet', Target('se_r18', 'seresnet18'), 'b.py')
    assert overrides([Change('load_from', 'a.pth', None, 'plain')]) == ({'load_from': None}, {})
    assert render(ctx, [Change('load_from', 'a.pth', None, 'plain')], 'b.py').endswith(
        "custom_imports = dict(imports=['se_backbones'], allow_failed_imports=False)\n"
        'load_from = None\nmodel = dict()\n'
    )


def test_why_a_twin_does_not_load_is_one_line_of_at_most_300_characters(tmp_path):
    with pytest.raises(TwinError) as error:
        write_checked("raise ValueError('a  b\\n c' + ' d' * 200)\n", str(tmp_path / 'twin.py'))
    reason = ('a b c' + ' d' * 200)[:300]
    assert str(error.value) == f'the twin does not load (ValueError: {reason}); nothing written'
    assert os.listdir(tmp_path) == []


def test_a_relative_base_is_checked_from_where_the_twin_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'mine.py').write_text(f"_base_ = '{RETINA}'\n")
    twin = make_se_config('mine.py', os.path.join('twins', 'a', 'twin.py'), arch='se_r18')
    assert f"_base_ = '{os.path.join('..', '..', 'mine.py')}'" in twin.text
    assert os.listdir(tmp_path / 'twins' / 'a') == ['twin.py']
    assert Config.fromfile('twins/a/twin.py').model.backbone.depth == 18


def test_another_mmengine_without_the_name_check_inherits_toolkit_configs_by_name(monkeypatch):
    import mmengine.config.utils

    monkeypatch.delattr(mmengine.config.utils, '_get_package_and_cfg_path')
    assert base_reference(LEGACY, 'x.py') == (LEGACY, [])


def test_the_twin_is_checked_from_a_hidden_file_next_to_it(tmp_path, monkeypatch):
    seen, load = [], Config.fromfile

    def fromfile(path, *args, **kwargs):  # what the folder shows while MMEngine checks the twin
        seen.append((os.path.dirname(path), [n for n in os.listdir(tmp_path) if n[0] != '.']))
        return load(path, *args, **kwargs)

    monkeypatch.setattr(Config, 'fromfile', staticmethod(fromfile))
    write_checked('a = 1\n', str(tmp_path / 'twin.py'))
    assert seen == [(str(tmp_path), [])] and os.listdir(tmp_path) == ['twin.py']
