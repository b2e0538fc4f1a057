"""The written twin: portable bases (a toolkit config by its name, other absolute paths as they
are), so that a moved twin still loads; the overrides the Changes write."""

import os
import shutil

import pytest
from mmengine.config import Config

from se_backbones.twin import Change, TwinError, fmt, make_se_config
from se_backbones.twin.base import base_path
from se_backbones.twin.render import base_reference, overrides, write_checked

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
    assert (
        fmt([1, (2,)], 0) == '[1, (2,)]' and fmt((), 0) == '()' and fmt({1: 'a'}, 0) == "{1: 'a'}"
    )
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
