import logging
import os
import re

import huggingface_hub
import pytest
import timm
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import DefaultScope

from se_backbones import SEResNet, backbone_cfg_from_timm, convert_timm_state_dict
from se_backbones.weights.equivalence import max_rel_diff, randomize_, timm_stage_features
from se_backbones.weights.init import refuse_timm_files


@pytest.fixture(scope='module')
def timm_seresnet18(tmp_path_factory):
    model = randomize_(timm.create_model('seresnet18', pretrained=False)).eval()
    path = str(tmp_path_factory.mktemp('timm') / 'seresnet18.pth')
    torch.save(model.state_dict(), path)
    return model, path


def build_in_mmdet(**kwargs):
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MMDET_MODELS.build(dict(backbone_cfg_from_timm('seresnet18'), **kwargs))


def test_init_cfg_loads_a_local_timm_checkpoint(timm_seresnet18):
    theirs, path = timm_seresnet18
    ours = build_in_mmdet(
        init_cfg=dict(
            type='se_backbones.TimmPretrained', model_name='seresnet18.a1_in1k', checkpoint=path
        )
    )
    ours.init_weights()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert max_rel_diff(ours.eval()(x), timm_stage_features(theirs, x)) < 1e-5


def test_timm_init_runs_after_the_default_init(timm_seresnet18):
    """A Kaiming entry beside it must not overwrite the loaded weights (SE convs included)."""
    theirs, path = timm_seresnet18
    ours = build_in_mmdet(
        init_cfg=[
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='se_backbones.TimmPretrained', model_name='seresnet18', checkpoint=path),
        ]
    )
    ours.init_weights()
    torch.testing.assert_close(
        ours.layer1[0].se_layer.conv1.conv.weight, theirs.layer1[0].se.fc1.weight
    )


def offline_with_empty_caches(monkeypatch, directory):
    """No network and empty weight caches: huggingface_hub read HF_HOME and HF_HUB_OFFLINE into
    its constants at import (setting the variables now would change nothing), so those are
    patched; torch.hub reads TORCH_HOME at each call."""
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)
    for name in ('HF_HOME', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_ASSETS_CACHE'):
        monkeypatch.setattr(
            huggingface_hub.constants, name, str(directory / 'hf' / name), raising=False
        )
    monkeypatch.setenv('TORCH_HOME', str(directory / 'torch'))


# why timm cannot fetch: offline (huggingface_hub present) or no huggingface_hub at all (timm
# 0.9 of the classic stack does not require it)
OFFLINE = r'LocalEntryNotFound|OfflineModeIsEnabled'  # huggingface_hub's own offline errors


def test_timm_can_use_the_hugging_face_hub():
    """timm fetches pretrained weights through huggingface_hub; timm 0.9 cannot use
    huggingface_hub >= 1.0 (no ``HfFolder``) and then says the hub is not installed, online
    too (the classic stack's lock pinned 2.4 once)."""
    from timm.models import _hub

    assert _hub._has_hf_hub


def test_offline_without_checkpoint_fails_with_one_clear_message(monkeypatch, tmp_path):
    # a name timm has weights for (seresnet18 has none: its error would be the tag's)
    assert 'seresnet50.a1_in1k' in timm.list_pretrained('seresnet50*')
    offline_with_empty_caches(monkeypatch, tmp_path)
    ours = SEResNet(depth=50, pretrained='timm://seresnet50.a1_in1k')
    assert ours.init_cfg == dict(
        type='se_backbones.TimmPretrained', model_name='seresnet50.a1_in1k'
    )
    weights = ours.conv1.weight.clone()
    with pytest.raises(
        RuntimeError,
        match=r'timm could not provide pretrained weights for '
        r"'seresnet50\.a1_in1k' \(.*(" + OFFLINE + ').*pass '
        r'checkpoint=',
    ):
        ours.init_weights()
    torch.testing.assert_close(ours.conv1.weight, weights)


KAIMING = dict(type='Kaiming', layer='Conv2d')


def weights_without_timm(depth, seed):
    """The weights SEResNet(depth) gets from its init_cfg without the timm entry: the reference
    for missing_ok."""
    torch.manual_seed(seed)
    model = SEResNet(depth=depth, init_cfg=[KAIMING])
    model.init_weights()
    return model.state_dict()


def init_with_missing_ok(depth, model_name, seed, mmlogs):
    """SEResNet(depth) with the same init_cfg plus a missing_ok TimmPretrained entry,
    initialized: its state dict and what it logged, as (message, level) pairs."""
    torch.manual_seed(seed)
    model = SEResNet(
        depth=depth,
        init_cfg=[
            KAIMING,
            dict(type='se_backbones.TimmPretrained', model_name=model_name, missing_ok=True),
        ],
    )
    model.init_weights()
    return model.state_dict(), [(message, level) for level, message in mmlogs]


def assert_default_init_and_one_warning(state_dict, reference, logged, model_name):
    assert state_dict.keys() == reference.keys()
    for key, value in state_dict.items():
        assert torch.equal(value, reference[key]), key
    assert len(logged) == 1, logged
    message, level = logged[0]
    assert level == logging.WARNING
    assert f"pretrained weights for '{model_name}'" in message
    assert 'Continuing WITHOUT pretrained weights (missing_ok=True)' in message


def test_missing_ok_keeps_the_default_init_and_warns_when_timm_has_no_weights(monkeypatch, mmlogs):
    def unavailable(model_name):
        raise RuntimeError(
            f'TimmPretrained: timm could not provide pretrained weights for '
            f'{model_name!r} (simulated).'
        )

    monkeypatch.setattr('se_backbones.weights.init.timm_pretrained_state_dict', unavailable)
    state_dict, logged = init_with_missing_ok(18, 'seresnet18', 3, mmlogs)
    assert_default_init_and_one_warning(
        state_dict, weights_without_timm(18, 3), logged, 'seresnet18'
    )


def test_missing_ok_offline_keeps_the_default_init_and_warns(monkeypatch, tmp_path, mmlogs):
    """The same through timm itself: offline, nothing cached. (timm builds its model before it
    looks for the weights, which draws random numbers: the Kaiming init is checked by its
    spread, sqrt(2 / fan_out), rather than value for value.)"""
    offline_with_empty_caches(monkeypatch, tmp_path)
    state_dict, logged = init_with_missing_ok(50, 'seresnet50.a1_in1k', 4, mmlogs)
    assert len(logged) == 1, logged
    message, level = logged[0]
    assert level == logging.WARNING
    assert "pretrained weights for 'seresnet50.a1_in1k' (" in message
    assert re.search(OFFLINE, message), message
    assert 'Continuing WITHOUT pretrained weights (missing_ok=True)' in message
    convs = {
        k: v
        for k, v in state_dict.items()
        if v.dim() == 4 and v.numel() >= 100_000 and 'se_layer' not in k
    }
    assert len(convs) > 20
    for key, weight in convs.items():
        fan_out = weight.shape[0] * weight[0, 0].numel()
        assert float(weight.std()) == pytest.approx((2 / fan_out) ** 0.5, rel=0.05), key


def test_wrong_architecture_is_refused_before_loading(timm_seresnet18):
    _, path = timm_seresnet18
    ours = SEResNet(
        depth=18,
        deep_stem=True,
        init_cfg=dict(type='se_backbones.TimmPretrained', model_name='seresnet18', checkpoint=path),
    )
    with pytest.raises(
        ValueError,
        match=r'SEResNet is not the architecture of seresnet18 '
        r'\(deep_stem=True \(needs False\).*backbone_cfg_from',
    ):
        ours.init_weights()
    legacy = SEResNet(
        depth=18,
        stage_with_se=(False, True, True, True),
        init_cfg=dict(type='se_backbones.TimmPretrained', model_name='seresnet18', checkpoint=path),
    )
    before = {k: v.clone() for k, v in legacy.state_dict().items()}
    with pytest.raises(
        ValueError,
        match=r'does not fit the backbone: 8 unexpected keys: '
        r'layer1\.0\.se_layer',
    ):
        legacy.init_weights()
    for key, value in legacy.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_unknown_timm_name_fails_at_build():
    with pytest.raises(ValueError, match="timm model 'seresnet33ts' is not an SE-ResNet"):
        SEResNet(depth=50, pretrained='timm://seresnet33ts').init_weights()


@pytest.mark.parametrize(
    'typos, named',
    [
        (dict(strcit=False), "argument 'strcit' (did you mean 'strict'?)"),
        (
            dict(checkpiont='w.pth', foo=1),
            "arguments 'checkpiont' (did you mean 'checkpoint'?), 'foo'",
        ),
    ],
)
def test_a_misspelt_argument_is_named_with_its_fix(typos, named):
    """As SEResNet's own arguments (docs/reliability.md): one line, through the config."""
    init_cfg = dict(type='se_backbones.TimmPretrained', model_name='seresnet18', **typos)
    with pytest.raises(TypeError) as info:
        SEResNet(depth=18, init_cfg=init_cfg).init_weights()
    assert str(info.value) == (
        f'TimmPretrained: unknown {named}; allowed: checkpoint, missing_ok, model_name, sha256, '
        'strict'
    )


def timm_init(path, **kwargs):
    return dict(
        type='se_backbones.TimmPretrained', model_name='seresnet18', checkpoint=path, **kwargs
    )


def assert_refused(model, match):
    """init_weights raises ``match`` and leaves every weight as it was."""
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        model.init_weights()
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


class CodePayload:
    """Unpickling it would run a shell command (touch the marker file)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_a_pickle_with_code_is_refused_and_never_runs(tmp_path):
    marker, path = tmp_path / 'code_ran', str(tmp_path / 'hostile.pth')
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7), 'x': CodePayload(marker)}, path)
    assert_refused(
        SEResNet(18, init_cfg=timm_init(path)),
        r'hostile\.pth: refused, it holds pickled objects other than tensors, which '
        r'could run code .*only plain state dicts are loaded',
    )
    assert not marker.exists()


def save_damaged(state_dict, directory, suffix, damage):
    """Save ``state_dict`` as ``good<suffix>`` (torch or safetensors), and ``damage`` of its
    bytes as ``damaged<suffix>``; return both paths."""
    from safetensors.torch import save_file

    good, damaged = str(directory / f'good{suffix}'), str(directory / f'damaged{suffix}')
    if suffix == '.safetensors':
        save_file(state_dict, good)
    else:
        torch.save(state_dict, good)
    with open(good, 'rb') as f, open(damaged, 'wb') as out:
        out.write(damage(bytearray(f.read())))
    return good, damaged


def flip_a_byte(data):
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize('suffix', ['.pth', '.safetensors'])
def test_a_truncated_file_raises_and_changes_nothing(timm_seresnet18, tmp_path, suffix):
    _, path = save_damaged(
        timm_seresnet18[0].state_dict(),
        tmp_path,
        suffix,
        lambda data: bytes(data[: len(data) // 2]),
    )
    assert_refused(
        SEResNet(18, init_cfg=timm_init(path)), rf'damaged\{suffix}: not a readable checkpoint'
    )


@pytest.mark.parametrize('suffix', ['.pth', '.safetensors'])
def test_corrupted_bytes_are_caught(timm_seresnet18, tmp_path, suffix):
    """A flipped byte inside a tensor leaves a readable file: torch's zip entries' CRC-32
    catches it; safetensors has no checksum, a SHA-256 digest catches it."""
    from se_backbones.weights.files import sha256_of

    theirs, _ = timm_seresnet18
    good, path = save_damaged(theirs.state_dict(), tmp_path, suffix, flip_a_byte)
    digest = sha256_of(good)
    if suffix == '.pth':
        assert_refused(
            SEResNet(18, init_cfg=timm_init(path)),
            r'damaged\.pth: corrupted, the CRC-32 of its entry .* does not match',
        )
    assert_refused(
        SEResNet(18, init_cfg=timm_init(path, sha256=digest[:10])),
        rf'damaged\{suffix}: SHA-256 [0-9a-f]{{64}} does not match the expected '
        rf'{digest[:10]}',
    )
    model = SEResNet(18, init_cfg=timm_init(good, sha256=digest))
    model.init_weights()  # the right file with its digest loads
    torch.testing.assert_close(model.conv1.weight, theirs.conv1.weight, rtol=0, atol=0)


def test_partial_load_is_opt_in_and_lists_what_it_skips(timm_seresnet18, mmlogs):
    theirs, path = timm_seresnet18
    no_se_in_layer1 = dict(depth=18, stage_with_se=(False, True, True, True))
    assert_refused(
        SEResNet(**no_se_in_layer1, init_cfg=timm_init(path)),
        r'8 unexpected keys: layer1\.0\.se_layer',
    )
    partial = SEResNet(**no_se_in_layer1, init_cfg=timm_init(path, strict=False))
    partial.init_weights()
    assert len(mmlogs) == 1 and mmlogs[0][0] == logging.WARNING
    assert mmlogs[0][1] == (
        'TimmPretrained: seresnet18 does not fit the backbone: 8 unexpected keys: '
        'layer1.0.se_layer.conv1.conv.weight, layer1.0.se_layer.conv1.conv.bias, '
        'layer1.0.se_layer.conv2.conv.weight, layer1.0.se_layer.conv2.conv.bias, '
        'layer1.1.se_layer.conv1.conv.weight, layer1.1.se_layer.conv1.conv.bias, '
        'layer1.1.se_layer.conv2.conv.weight, layer1.1.se_layer.conv2.conv.bias '
        f'(strict=False: these are skipped, {len(partial.state_dict())} tensors load)'
    )
    torch.testing.assert_close(
        partial.layer2[0].se_layer.conv1.conv.weight, theirs.layer2[0].se.fc1.weight, rtol=0, atol=0
    )
    torch.testing.assert_close(
        partial.layer1[0].conv1.weight, theirs.layer1[0].conv1.weight, rtol=0, atol=0
    )


@pytest.mark.parametrize(
    'kwargs, error, message',
    [
        (dict(strict='no'), TypeError, "TimmPretrained: strict must be True or False, got 'no'"),
        (
            dict(missing_ok='yes'),
            TypeError,
            "TimmPretrained: missing_ok must be True or False, got 'yes'",
        ),
        (
            dict(checkpoint=3),
            TypeError,
            'TimmPretrained: checkpoint must be None or a file path, got 3',
        ),
        (
            dict(sha256='abc'),
            ValueError,
            'TimmPretrained: sha256 needs checkpoint (the file it checks)',
        ),
        (
            dict(model_name=5),
            TypeError,
            'model_name must be a timm model name (str), got 5',
        ),
    ],
)
def test_bad_timm_pretrained_arguments(kwargs, error, message):
    from se_backbones import TimmPretrained

    with pytest.raises(error) as raised:
        TimmPretrained(**dict(dict(model_name='seresnet18'), **kwargs))
    assert str(raised.value) == message
    TimmPretrained('seresnet18', checkpoint='w.pth', sha256='ab' * 4, strict=False, missing_ok=True)


def timm_offering(weights, error=None):
    """A stand-in for ``timm.create_model`` with timm's cache holding ``weights`` (a timm
    model) for seresnet18, or failing with ``error``: a model without pretrained weights is
    timm's random init."""
    real = timm.create_model

    def create_model(name, pretrained=False, **kwargs):
        if pretrained and error is not None:
            raise error
        model = real(name, pretrained=False, **kwargs)
        if pretrained:
            assert name == 'seresnet18', name
            model.load_state_dict(weights.state_dict())
        return model

    return create_model


def test_without_checkpoint_timm_s_pretrained_weights_load(timm_seresnet18, monkeypatch):
    theirs, _ = timm_seresnet18
    monkeypatch.setattr(timm, 'create_model', timm_offering(theirs))
    model = SEResNet(18, pretrained='timm://seresnet18')
    model.init_weights()
    torch.testing.assert_close(model.conv1.weight, theirs.conv1.weight, rtol=0, atol=0)
    torch.testing.assert_close(
        model.layer4[1].se_layer.conv2.conv.bias, theirs.layer4[1].se.fc2.bias, rtol=0, atol=0
    )


def test_timm_failing_to_provide_weights_is_one_message_quoting_its_error(monkeypatch):
    """timm's error, whitespace collapsed, its first 300 characters; then how to pass a file."""
    error = OSError('no network:\n   ' + 'retried ' * 60)
    monkeypatch.setattr(timm, 'create_model', timm_offering(None, error))
    model = SEResNet(18, init_cfg=dict(type='se_backbones.TimmPretrained', model_name='seresnet18'))
    before = model.conv1.weight.clone()
    with pytest.raises(RuntimeError) as raised:
        model.init_weights()
    reason = ('OSError: no network: ' + 'retried ' * 60)[:300]
    assert str(raised.value) == (
        f"TimmPretrained: timm could not provide pretrained weights for 'seresnet18' ({reason}). "
        'Offline? Save them where you have a network, e.g. torch.save('
        "timm.create_model('seresnet18', pretrained=True).state_dict(), 'w.pth'), and pass "
        "checkpoint='w.pth' (.pth, .bin or .safetensors)."
    )
    assert torch.equal(model.conv1.weight, before)


class RenamedSEResNet(SEResNet):
    """SEResNet under another name (not registered)."""


@pytest.mark.parametrize(
    'build, message',
    [
        (
            lambda init: RenamedSEResNet(18, init_cfg=init),
            r'RenamedSEResNet is not the architecture of seresnet18 \(SEResNet\)',
        ),
        (
            lambda init: SEResNet(18, deep_stem=True, avg_down=True, init_cfg=init),
            r'SEResNet is not the architecture of seresnet18 \(deep_stem=True \(needs False\), '
            r'avg_down=True \(needs False\)[,)]',
        ),
        (  # mmdet's ResNet: no architecture() to compare, MMEngine calls the initializer
            lambda init: MMDET_MODELS.build(dict(type='mmdet.ResNet', depth=18, init_cfg=init)),
            r'ResNet is not the architecture of seresnet18 \(SEResNet\)',
        ),
    ],
    ids=['subclass', 'stem', 'mmdet-resnet'],
)
def test_another_architecture_is_refused_naming_the_differences(timm_seresnet18, build, message):
    model = build(timm_init(timm_seresnet18[1]))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError) as raised:
        model.init_weights()
    assert re.fullmatch(
        rf'TimmPretrained: {message}; build it from '
        r"se_backbones\.backbone_cfg_from_timm\('seresnet18'\)",
        str(raised.value),
    ), str(raised.value)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


@pytest.mark.parametrize(
    'init_type',
    ['se_backbones.TimmPretrained', 'TimmPretrained', 'class'],
)
@pytest.mark.parametrize('as_list', [False, True])
def test_every_spelling_of_the_type_loads_after_the_default_init(
    timm_seresnet18, init_type, as_list
):
    """Loaded after MMEngine's init pass (the SE convs' ConvModule init would overwrite them
    otherwise), whichever way the type is written; the model's init_cfg is left as given."""
    from se_backbones import TimmPretrained

    theirs, path = timm_seresnet18
    init = dict(timm_init(path), type=TimmPretrained if init_type == 'class' else init_type)
    init_cfg = [init] if as_list else init
    model = SEResNet(18, init_cfg=init_cfg)
    model.init_weights()
    expected = convert_timm_state_dict('seresnet18', theirs.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key
    assert model.init_cfg == init_cfg


def test_other_init_entries_run_first_and_cover_what_timm_does_not(monkeypatch):
    """With missing_ok and no weights, the other entries of init_cfg are the init (not the
    backbone's default)."""
    monkeypatch.setattr(timm, 'create_model', timm_offering(None, OSError('offline')))
    constant = dict(type='Constant', val=0.5, layer='Conv2d')
    init = dict(type='se_backbones.TimmPretrained', model_name='seresnet18', missing_ok=True)
    torch.manual_seed(0)
    reference = SEResNet(18, init_cfg=[constant])
    reference.init_weights()
    torch.manual_seed(0)
    model = SEResNet(18, init_cfg=[constant, init])
    model.init_weights()
    assert model.conv1.weight.unique().tolist() == [0.5]
    for key, value in model.state_dict().items():
        assert torch.equal(value, reference.state_dict()[key]), key
    assert model.init_cfg == [constant, init]


def test_the_initializer_called_on_a_backbone_loads_the_weights(timm_seresnet18):
    """MMEngine's initializer protocol: ``TimmPretrained(...)(module)``."""
    from se_backbones import TimmPretrained

    theirs, path = timm_seresnet18
    model = SEResNet(18)
    TimmPretrained('seresnet18', checkpoint=path)(model)
    expected = convert_timm_state_dict('seresnet18', theirs.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_strict_false_also_skips_what_does_not_convert(timm_seresnet18, tmp_path, mmlogs):
    """A timm file with a key no rule maps and a missing one: strict refuses it, strict=False
    loads the rest and warns naming both."""
    theirs, _ = timm_seresnet18
    state_dict = dict(theirs.state_dict(), **{'layer1.0.attn.weight': torch.zeros(1)})
    del state_dict['layer4.1.bn2.bias']
    path = str(tmp_path / 'odd.pth')
    torch.save(state_dict, path)
    with pytest.raises(ValueError, match=r'^seresnet18: 1 timm keys have no mapping: '):
        SEResNet(18, init_cfg=timm_init(path)).init_weights()
    model = SEResNet(18, init_cfg=timm_init(path, strict=False))
    before = model.layer4[1].bn2.bias.clone()
    model.init_weights()
    torch.testing.assert_close(model.conv1.weight, theirs.conv1.weight, rtol=0, atol=0)
    assert torch.equal(model.layer4[1].bn2.bias, before)
    warnings = [message for level, message in mmlogs if level == logging.WARNING]
    assert len(warnings) == 2, mmlogs
    assert warnings[0].startswith(
        'partial load (strict=False) of seresnet18, skipped: 1 timm keys have no mapping: '
        'layer1.0.attn.weight; seresnet18: the converted state dict does not fit the '
        'architecture: 1 missing keys: layer4.1.bn2.bias'
    )
    assert warnings[1].startswith(
        'TimmPretrained: seresnet18 does not fit the backbone: 1 missing keys: layer4.1.bn2.bias'
    )


TIMM_FILE_REFUSAL = (
    'SEResNet: a Pretrained checkpoint (from pretrained= or init_cfg) must be in this '
    "backbone's keys, not timm's (layer1.0.se.fc1.weight and 31 more would not load); load a "
    "timm file with init_cfg=dict(type='se_backbones.TimmPretrained', "
    "model_name='<its timm name>', checkpoint='{path}'), got '{path}'"
)


@pytest.mark.parametrize(
    'given',
    [
        lambda path: dict(pretrained=path),
        lambda path: dict(init_cfg=dict(type='Pretrained', checkpoint=path)),
        lambda path: dict(
            init_cfg=[
                dict(type='Kaiming', layer='Conv2d'),
                dict(type='Pretrained', checkpoint=path),
            ]
        ),
    ],
    ids=['pretrained', 'init_cfg', 'init_cfg-list'],
)
def test_a_timm_file_given_to_mmengines_pretrained_is_refused_naming_timm_pretrained(
    timm_seresnet18, given
):
    """MMEngine would load its non-SE tensors by name and leave every SE layer at its init
    (only logging the 32 SE tensors as unexpected); refused before any weight changes."""
    _, path = timm_seresnet18
    model = build_in_mmdet(**given(path))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError) as error:
        model.init_weights()
    assert str(error.value) == TIMM_FILE_REFUSAL.format(path=path)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_a_legacy_senet_or_eca_timm_file_is_refused_too(tmp_path):
    for name, key in (('legacy_seresnet18', 'se_module.fc1'), ('ecaresnet26t', 'se.conv')):
        path = str(tmp_path / f'{name}.pth')
        torch.save(timm.create_model(name, pretrained=False).state_dict(), path)
        with pytest.raises(ValueError, match=rf"not timm's \(layer1\.0\.{key}\.weight and "):
            SEResNet(18, pretrained=path).init_weights()


def test_our_keys_and_plain_resnet_keys_load_through_pretrained(timm_seresnet18, tmp_path):
    """A converted file loads through ``pretrained=`` (the timm model's features); so does a
    timm file without SE keys (timm's plain ResNet, into a backbone with SE off)."""
    theirs, _ = timm_seresnet18
    ours = str(tmp_path / 'ours.pth')
    torch.save(convert_timm_state_dict('seresnet18', theirs.state_dict()), ours)
    model = build_in_mmdet(pretrained=ours)
    model.init_weights()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert max_rel_diff(model.eval()(x), timm_stage_features(theirs, x)) < 1e-5
    plain = randomize_(timm.create_model('resnet18', pretrained=False))
    torch.save(plain.state_dict(), ours)
    model = SEResNet(18, stage_with_se=(False,) * 4, pretrained=ours)
    model.init_weights()
    assert torch.equal(model.layer4[1].conv2.weight, plain.layer4[1].conv2.weight)


@pytest.mark.parametrize('count, named', [(1, ''), (2, ' and 1 more')])
def test_the_refusal_counts_the_se_keys(timm_seresnet18, tmp_path, count, named):
    theirs, _ = timm_seresnet18
    se_keys = [k for k in theirs.state_dict() if '.se.' in k][:count]
    path = str(tmp_path / 'few.pth')
    torch.save(
        {k: v for k, v in theirs.state_dict().items() if '.se.' not in k or k in se_keys}, path
    )
    with pytest.raises(ValueError, match=re.escape(f'({se_keys[0]}{named} would not load)')):
        SEResNet(18, pretrained=path).init_weights()


def test_each_pretrained_entry_is_looked_at(timm_seresnet18, tmp_path):
    """A timm file is refused after entries left to MMEngine: another initializer, a file under
    a prefix, one that is not there, one our reader refuses."""
    _, path = timm_seresnet18
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint')
    before = [
        dict(type='Kaiming', layer='Conv2d'),
        dict(type='Pretrained', checkpoint=path, prefix='backbone.'),
        dict(type='Pretrained', checkpoint=str(tmp_path / 'not_there.pth')),
        dict(type='Pretrained', checkpoint=str(garbage)),
    ]
    for entry in before:
        with pytest.raises(ValueError, match="not timm's"):
            refuse_timm_files('SEResNet', [entry, dict(type='Pretrained', checkpoint=path)])
        assert refuse_timm_files('SEResNet', [entry]) is None
    assert refuse_timm_files('SEResNet', [dict(type='Pretrained', checkpoint=None)]) is None


def test_what_is_not_a_local_timm_file_is_left_to_mmengine(timm_seresnet18, tmp_path):
    """Under a prefix (a whole model's checkpoint), or a file our reader refuses: MMEngine
    reads it and says what it thinks of it."""
    _, path = timm_seresnet18
    model = SEResNet(18, init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone.'))
    with pytest.raises(AssertionError, match='backbone.'):  # MMEngine: no such prefix
        model.init_weights()
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint')
    with pytest.raises(Exception) as error:
        SEResNet(18, pretrained=str(garbage)).init_weights()
    assert 'SEResNet' not in str(error.value) and not isinstance(error.value, ValueError)
