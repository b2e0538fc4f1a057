import subprocess
import sys
import textwrap

# Run in a fresh interpreter: the test session has imported se_backbones already, and the point
# is that a config's custom_imports alone is enough.
SCRIPT = textwrap.dedent("""
    import sys
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    import mmdet.registry, mmpretrain.registry, mmseg.registry
    assert 'se_backbones' not in sys.modules
    cfg = Config.fromfile(sys.argv[1])
    for scope, registry in [('mmdet', mmdet.registry.MODELS), ('mmseg', mmseg.registry.MODELS),
                            ('mmpretrain', mmpretrain.registry.MODELS)]:
        with DefaultScope.overwrite_default_scope(scope):
            for backbone in (cfg.se_resnet, cfg.se_resnext, cfg.bare_name):
                try:
                    model = registry.build(backbone)
                except KeyError:
                    print(scope, backbone['type'], 'not-found', '-')
                    continue
                print(scope, backbone['type'], type(model).__module__, type(model).__name__)
""")

CONFIG = """
custom_imports = dict(imports=['se_backbones'], allow_failed_imports=False)
se_resnet = dict(type='se_backbones.SEResNet', depth=18, se_ratio=8)
se_resnext = dict(type='se_backbones.SEResNeXt', depth=50, groups=32, base_width=4)
bare_name = dict(type='SEResNet', depth=50)
"""


def test_custom_imports_build_from_each_toolkit_registry(tmp_path):
    config = tmp_path / 'config.py'
    config.write_text(CONFIG)
    result = subprocess.run(
        [sys.executable, '-c', SCRIPT, str(config)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    built = {(scope, name): (module, cls) for scope, name, module, cls in rows}
    for scope in ('mmdet', 'mmseg', 'mmpretrain'):
        assert built[scope, 'se_backbones.SEResNet'] == (
            'se_backbones.backbones.seresnet',
            'SEResNet',
        )
        assert built[scope, 'se_backbones.SEResNeXt'] == (
            'se_backbones.backbones.seresnext',
            'SEResNeXt',
        )
    # The documented rule for bare names: ours in mmdet's and mmseg's scope, mmpretrain's own
    # class in mmpretrain's scope.
    assert built['mmpretrain', 'SEResNet'][0] == 'mmpretrain.models.backbones.seresnet'
    assert (
        built['mmdet', 'SEResNet']
        == built['mmseg', 'SEResNet']
        == ('se_backbones.backbones.seresnet', 'SEResNet')
    )


def test_a_misspelled_scoped_type_gets_did_you_mean():
    """From each toolkit's registry; any other miss stays MMEngine's (None, then its KeyError),
    and dotted paths still resolve through MMEngine's import fallback."""
    import mmdet.registry
    import mmpretrain.registry
    import mmseg.registry
    import pytest
    from mmengine.registry import DefaultScope

    from se_backbones import SELayer
    from se_backbones.registry import HOOKS

    for scope, registry in [
        ('mmdet', mmdet.registry.MODELS),
        ('mmseg', mmseg.registry.MODELS),
        ('mmpretrain', mmpretrain.registry.MODELS),
    ]:
        with DefaultScope.overwrite_default_scope(scope):
            for typo, fix in (
                ('SEResnet', 'SEResNet'),
                ('SEResNext', 'SEResNeXt'),
                ('SEPlugn', 'SEPlugin'),
            ):
                with pytest.raises(KeyError, match=f'did you mean se_backbones.{fix}\\?'):
                    registry.build(dict(type=f'se_backbones.{typo}', depth=50))
            with pytest.raises(KeyError, match='is not in the'):  # nothing close: MMEngine's
                registry.build(dict(type='se_backbones.Transformer'))
            assert registry.get('se_backbones.layers.SELayer') is SELayer
    assert HOOKS.get('Nothing') is None
    with pytest.raises(KeyError, match='RNGStateHook'):
        HOOKS.get('RNGStatehook')


def test_each_toolkit_builds_ours_in_process_by_scoped_and_bare_name():
    """What the subprocess test shows, in this process: a scoped name, and in mmdet's and
    mmseg's scope a bare one, build our class, which runs."""
    import mmdet.registry
    import mmseg.registry
    import torch
    from mmengine.registry import DefaultScope

    from se_backbones import SEResNet

    for scope, registry in [('mmdet', mmdet.registry.MODELS), ('mmseg', mmseg.registry.MODELS)]:
        with DefaultScope.overwrite_default_scope(scope):
            for name in ('se_backbones.SEResNet', 'SEResNet'):
                model = registry.build(dict(type=name, depth=18, out_indices=(3,))).eval()
                assert type(model) is SEResNet
                assert tuple(model(torch.randn(1, 3, 32, 32))[0].shape) == (1, 512, 1, 1)


def test_only_close_undotted_names_get_did_you_mean():
    """A name not close enough ('SENet26' to SENet154) and a dotted one (an import path) miss
    as MMEngine's do: None from get, MMEngine's KeyError from build."""
    import mmdet.registry
    import pytest
    from mmengine.registry import DefaultScope

    from se_backbones.registry import MODELS

    assert MODELS.get('SENet26') is None
    assert MODELS.get('mm.SEResnet') is None
    with DefaultScope.overwrite_default_scope('mmdet'):
        with pytest.raises(KeyError, match='is not in the'):
            mmdet.registry.MODELS.build(dict(type='se_backbones.SENet26'))


def test_register_bare_names_leaves_a_toolkit_its_own_classes():
    """A new name is registered in mmdet's and mmseg's MODELS and builds there; a name the
    toolkit has (ResNet) stays the toolkit's."""
    import mmdet.registry
    import mmseg.registry
    from torch import nn

    from se_backbones.registry import register_bare_names

    class SEBareNameProbe(nn.Module):
        pass

    class ResNet(nn.Module):
        pass

    assert register_bare_names([SEBareNameProbe, ResNet]) == [
        ('mmdet', 'SEBareNameProbe'),
        ('mmseg', 'SEBareNameProbe'),
    ]
    for registry in (mmdet.registry.MODELS, mmseg.registry.MODELS):
        assert registry.get('SEBareNameProbe') is SEBareNameProbe
        assert registry.get('ResNet') is not ResNet
    assert register_bare_names([SEBareNameProbe]) == [  # again: still ours, registered again
        ('mmdet', 'SEBareNameProbe'),
        ('mmseg', 'SEBareNameProbe'),
    ]
