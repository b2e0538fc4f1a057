"""tools/make_se_config.py in-process (``main(argv)``): every flag reaches the twin, every
refusal is one line on stderr with exit status 2 in the command's words (flags, not the
library's argument names), --list-archs prints the table of docs/se_twin.md."""

import os

import pytest
from mmengine.config import Config

from tests.configs.toy import ROOT
from tests.twin.toy_steps import save_timm
from tools.make_se_config import main

TOOL = 'make_se_config.py: error: '
BASE = """
default_scope = 'mmdet'
model = dict(
    type='RetinaNet',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1]),
    backbone=dict(type='ResNet', depth=18, frozen_stages=1),
    neck=dict(type='FPN', in_channels=[64, 128, 256, 512], out_channels=64, num_outs=5))
"""


def run(argv, capsys):
    """(exit status, stdout, stderr, what main returned)."""
    try:
        returned, status = main(argv), 0
    except SystemExit as exit:
        returned, status = None, exit.code
    out, err = capsys.readouterr()
    return status, out, err, returned


@pytest.fixture
def base(tmp_path):
    path = tmp_path / 'base.py'
    path.write_text(BASE)
    return str(path)


@pytest.fixture(scope='module')
def r18_file(tmp_path_factory):
    return save_timm('legacy_seresnet18', tmp_path_factory.mktemp('timm'))


def test_list_archs_prints_the_table_of_the_docs(capsys):
    from se_backbones.twin import arch_table

    status, out, err, _ = run(['--list-archs'], capsys)
    assert (status, err) == (0, '') and out == '\n'.join(arch_table()) + '\n'
    docs = os.path.join(ROOT, 'docs', 'se_twin.md')
    if os.path.isfile(docs):  # not in mutmut's copy of the tests
        docs = open(docs).read().splitlines()
        start = docs.index(arch_table()[0])
        assert out.splitlines() == docs[start : docs.index('', start)]


@pytest.mark.parametrize(
    'argv, message',
    [
        ([], 'BASE and OUT are required (or --list-archs)'),
        (['base.py'], 'BASE and OUT are required (or --list-archs)'),
    ],
)
def test_base_and_out_are_required(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err, _ = run(argv, capsys)
    assert status == 2 and err.startswith('usage: ') and err.endswith(f'error: {message}\n')
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    'argv, message',
    [
        (['missing.py', 'out.py', '--arch', 'se_r18'], "base config 'missing.py' does not exist"),
        (
            ['BASE', 'out.py', '--arch', 'se_r18', '--checkpoint', 'missing.pth'],
            "--checkpoint 'missing.pth' does not exist",
        ),
        (
            ['BASE', 'out.py'],
            'give --timm NAME (the weights; it implies the architecture) or --arch ARCH '
            '(untrained, or with --checkpoint a local timm file); --list-archs lists them',
        ),
        (
            ['mmdet::nope/x.py', 'out.py', '--arch', 'se_r18'],
            "base config 'mmdet::nope/x.py': mmdet has no config 'nope/x.py' (looked in ",
        ),
        (
            ['BASE', 'out.py', '--timm', 'seresnet18'],
            '--timm seresnet18: timm has no ImageNet weights for seresnet18 (its pretrained_cfg '
            'is untrained); with weights at depth 18: legacy_se_r18 (legacy_seresnet18.in1k); '
            '--arch se_r18 starts untrained, --checkpoint PATH loads a local file',
        ),
        (
            ['BASE', 'out.py', '--arch', 'se_r50', '--timm', 'seresnet50.nope'],
            '--timm seresnet50.nope: timm has no such pretrained tag; its tags for seresnet50: ',
        ),
        (
            ['BASE', 'out.txt', '--arch', 'se_r18'],
            "OUT 'out.txt' must be a .py file (MMEngine reads configs by suffix)",
        ),
        (['BASE', 'base.py', '--arch', 'se_r18', '--force'], 'OUT is the base config itself'),
        (['BASE', 'out.py', '--arch', 'resnet50'], "unknown architecture 'resnet50'"),
    ],
)
def test_each_refusal_is_one_line_with_exit_status_2(argv, message, base, capsys, monkeypatch):
    monkeypatch.chdir(os.path.dirname(base))
    argv = [os.path.basename(base) if a == 'BASE' else a for a in argv]
    status, out, err, _ = run(argv, capsys)
    assert status == 2 and out == ''
    assert err.startswith(TOOL + message) and err.endswith('\n') and err.count('\n') == 1, err
    assert os.listdir(os.path.dirname(base)) == ['base.py']


def test_arch_alone_writes_an_untrained_twin_and_says_so(base, tmp_path, capsys):
    out = tmp_path / 'sub' / 'twin.py'
    status, printed, err, twin = run([base, str(out), '--arch', 'se_r18'], capsys)
    assert (status, err) == (0, '')
    assert printed.splitlines() == [
        f'SE twin of {base}: se_r18 (untrained)',
        "  model.backbone.type: 'ResNet' -> 'se_backbones.SEResNet' (se_r18, seresnet18's "
        'architecture: the weights decide it)',
        '  kept from the base backbone: frozen_stages=1, norm_eval=True',
        '  note: --arch se_r18 alone: the backbone starts UNTRAINED (init_cfg=None); timm has no '
        'ImageNet weights for seresnet18; with weights at depth 18: legacy_se_r18 '
        '(legacy_seresnet18.in1k)',
        '  note: the base freezes parts of its backbone (frozen_stages=1, norm_eval=True), '
        'settings made for pretrained weights: untrained, those parts keep their random init '
        '(set frozen_stages=-1, norm_eval=False to train them)',
        "  note: untrained: the data preprocessor keeps the base's normalisation",
        f'wrote {out}',
    ]
    assert twin.path == str(out) and Config.fromfile(str(out)).model.backbone.init_cfg is None


def test_timm_sets_the_weights_and_force_replaces_the_twin(base, tmp_path, capsys):
    out = tmp_path / 'twin.py'
    out.write_text('x = 1\n')
    status, _, err, _ = run([base, str(out), '--timm', 'legacy_seresnet18.in1k'], capsys)
    assert status == 2 and err == f'{TOOL}OUT {str(out)!r} exists (--force replaces it)\n'
    assert out.read_text() == 'x = 1\n'
    status, printed, err, twin = run(
        [base, str(out), '--timm', 'legacy_seresnet18.in1k', '--force'], capsys
    )
    assert (status, err) == (0, '') and twin.model_name == 'legacy_seresnet18.in1k'
    assert printed.splitlines()[0] == (
        f'SE twin of {base}: legacy_se_r18 with timm weights legacy_seresnet18.in1k'
    )
    assert 'pass the weights file with --checkpoint PATH, or set frozen_stages=-1' in printed
    cfg = Config.fromfile(str(out))
    assert cfg.model.backbone.init_cfg == dict(
        type='se_backbones.TimmPretrained', model_name='legacy_seresnet18.in1k', missing_ok=True
    )
    assert cfg.model.data_preprocessor.mean == [123.675, 116.28, 103.53]


def test_checkpoint_is_the_twins_weights_file(base, tmp_path, capsys, r18_file):
    out = tmp_path / 'twin.py'
    status, printed, err, twin = run(
        [base, str(out), '--arch', 'legacy_se_r18', '--checkpoint', r18_file], capsys
    )
    assert (status, err) == (0, '') and 'note:' not in printed
    assert Config.fromfile(str(out)).model.backbone.init_cfg == dict(
        type='se_backbones.TimmPretrained', model_name='legacy_seresnet18', checkpoint=r18_file
    )
    status, _, err, _ = run(
        [base, str(tmp_path / 'x.py'), '--arch', 'se_r18', '--checkpoint', r18_file], capsys
    )
    assert status == 2 and err == (
        f'{TOOL}--checkpoint {r18_file!r} is not a seresnet18 state dict, the architecture of '
        'se_r18: it seems to be legacy_seresnet18 (--timm legacy_seresnet18 or --arch '
        'legacy_se_r18)\n'
    )


def test_help_is_the_docstring_and_each_options_help(capsys):
    import tools.make_se_config as tool

    status, out, err, _ = run(['--help'], capsys)
    assert (status, err) == (0, '') and out.startswith('usage: ')
    assert tool.__doc__.strip() in out  # the layout kept
    words = ' '.join(out.split())
    for text in (
        'BASE the config to twin: a path, or mmdet::<path>, mmseg::<path>, mmpretrain::<path> in '
        "the installed toolkit's configs (default: None)",
        'OUT where to write the twin (.py) (default: None)',
        '--timm NAME timm weights, e.g. seresnet50.a1_in1k, legacy_seresnet18.in1k (a name '
        "without tag: timm's default weights); implies the architecture (default: None)",
        '--arch ARCH our architecture: se_r18, se_r34, se_r50, se_r101, se_r152, se_x50_32x4d, '
        'se_x101_32x4d, se_x101_64x4d, eca_r50d, legacy_se_r50, ... (--list-archs lists all '
        'with their timm weights). Alone: an untrained backbone; with --timm: must be its '
        'architecture (default: None)',
        "--checkpoint PATH a local file (.pth/.bin/.safetensors) of the timm model's state dict, "
        'for the architecture of --arch or --timm; no download then (default: None)',
        '--force replace OUT if it exists (default: False)',
        '--list-archs print every architecture, its backbone config and the ImageNet weights '
        "timm has for it (read offline from timm's registry), and exit (default: False)",
    ):
        assert text in words, text
