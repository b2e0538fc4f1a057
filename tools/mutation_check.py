"""Mutation check: do the tests catch realistic bugs in the critical code?

Applies a fixed list of small deliberate bugs ("mutations") to the fused SE block end, the
attention gate, the argument checks, the timm key conversion, the safe checkpoint loader, the
RNG hook, the backbone's frozen stages / zero-init / with_cp / SE positions and the timm init
order, one at a time, in a temporary copy of the repository (se_backbones/, tests/, tools/,
configs/, pyproject.toml; no virtualenv), and runs only the tests meant to catch each one
(pytest -x -q -p no:cacheprovider, PYTHONPATH on the copy, a timeout per mutation). Prints a
Markdown table (mutation, file, what it breaks, killed/survived, seconds); exits 1 if any
mutation is not killed (survived, timed out, or its tests could not run).

    python tools/mutation_check.py                 # all mutations: about 8 minutes (2 cores)
    python tools/mutation_check.py --list          # the mutations and their tests, checked
    python tools/mutation_check.py --only sar-relu-mask checks-per-stage-length --no-baseline
    python tools/mutation_check.py --json mutations.json

First the selected tests run on the unmutated copy (they must pass: a "kill" by a test that
fails anyway would prove nothing), then each mutation with its tests.

Each mutation replaces one exact text in one file; a text that is not found exactly once in the
real sources stops the tool before it runs anything (the list cannot rot silently): update the
mutation together with the code. Statuses: killed (its tests fail), survived (they pass: a hole
in the tests), timeout, error (pytest found no such test, or a usage error).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import namedtuple

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import die, parser

TOOL = 'mutation_check.py'
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COPIED = ('se_backbones', 'tests', 'tools', 'configs', 'pyproject.toml')
IGNORED = shutil.ignore_patterns('__pycache__', '*.pyc', '.hypothesis', '.pytest_cache')

# id, file (relative to the repo root), exact old text, new text, what it breaks, the pytest
# arguments that select the tests meant to catch it (node ids, files, -k expressions)
# and extra environment variables for its pytest run
Mutation = namedtuple('Mutation', 'id file old new breaks tests env', defaults=[None])
# the PyTorch formulas of the fused SE block end, not the compiled op (se_backbones/layers/
# fused_op.py) that replaces them when it is built: a mutation there is tested without the op
PYTORCH_FORMULAS = {'SE_BACKBONES_NO_FUSED_OP': '1'}

SAR = 'se_backbones/layers/scale_add_relu.py'
SAR_TESTS = 'tests/layers/test_scale_add_relu.py'
SHORTCUT_BN_TEST = (f'{SAR_TESTS}::'
                    'test_shortcut_recomputed_from_its_bn_input_gives_the_hand_derived_gradients')
SE_BLOCKS = 'se_backbones/backbones/se_blocks.py'
SERESNET = 'se_backbones/backbones/seresnet.py'
SERESNET_TESTS = 'tests/backbones/test_seresnet.py'
GATE_TEST = ('tests/backbones/test_variants.py::'
             'test_every_gate_trains_with_the_plain_formulas_gradients')
BAD_ARGS_TEST = 'tests/test_checks.py::test_bad_argument_is_named_with_what_is_allowed'
HOOKS_TEST = ('tests/engine/test_rng_isolation.py::'
              'test_validation_leaves_the_training_random_stream_untouched')

LINEAR_GATE_TEST = ('tests/layers/test_se_layer.py::'
                    'test_gate_convs_as_matrix_products_equal_the_convs')
MUTATIONS = [
    # --- the fused SE block end: relu(x * gate + identity) and its hand-written backward ---
    Mutation('sar-forward-formula', SAR,
             'if inplace else x * gate).add_(identity)',
             'if inplace else x + gate).add_(identity)',
             'fused forward: x + gate instead of x * gate (autograd path)',
             [f'{SAR_TESTS}::test_equals_the_straightforward_formula_forward_and_backward'],
             PYTORCH_FORMULAS),
    Mutation('sar-grad-x', SAR,
             'grad_x = grad_pre * gate',
             'grad_x = grad_pre',
             "backward: the branch's gradient not scaled by the gate",
             [f'{SAR_TESTS}::test_gradcheck_float64'], PYTORCH_FORMULAS),
    Mutation('sar-grad-gate', SAR,
             'grad_gate = grad_gate / gate.clamp_min(',
             'grad_gate = grad_gate * gate.clamp_min(',
             "backward: grad_gate multiplied by the gate instead of divided (x * gate -> x)",
             [f'{SAR_TESTS}::test_gradcheck_float64'], PYTORCH_FORMULAS),
    Mutation('sar-relu-mask', SAR,
             'threshold_backward(grad_out, out, 0)',
             'threshold_backward(grad_out, identity, 0)',
             "backward: ReLU mask taken from the shortcut instead of the output",
             [f'{SAR_TESTS}::test_gradcheck_float64'], PYTORCH_FORMULAS),
    Mutation('sar-bn-running-var-as-mean', SAR,
             'None if batch_stats else mean,',
             'None if batch_stats else var,',
             'shortcut BN recompute: the running var used as the mean (eval-mode BN)',
             [f'{SHORTCUT_BN_TEST}[False]']),
    Mutation('sar-bn-train-mode-ignored', SAR,
             'batch_stats = bn.training or bn.running_mean is None',
             'batch_stats = bn.running_mean is None',
             'shortcut BN recompute: running stats in train mode (batch stats ignored)',
             [f'{SHORTCUT_BN_TEST}[True]']),
    Mutation('sar-inplace-inference', SAR,
             'return _forward(x, gate, identity, inplace and not torch.onnx.is_in_onnx_export())',
             'return _forward(x, gate, identity)',
             'inference path: a new tensor per block instead of writing into the branch',
             [f'{SAR_TESTS}::'
              'test_inplace_inference_writes_into_the_branch_and_rounds_as_the_formula']),
    # --- the attention gate ---
    Mutation('se-squeeze-max', 'se_backbones/layers/se_layer.py',
             'self.global_avgpool = nn.AdaptiveAvgPool2d(1)',
             'self.global_avgpool = nn.AdaptiveMaxPool2d(1)',
             "SELayer's squeeze: global max instead of mean pooling",
             ['tests/layers/test_se_layer.py::test_forward_is_the_paper_formula']),
    Mutation('se-linear-ignores-hooks', 'se_backbones/layers/se_layer.py',
             'and not _hooked(conv_module, conv))',
             ')',
             "the gate's F.linear path bypasses forward hooks on its convs",
             [LINEAR_GATE_TEST]),
    Mutation('se-linear-skips-activation', 'se_backbones/layers/se_layer.py',
             'pooled = conv_module.activate(pooled)',
             'pooled = pooled',
             "the gate's F.linear path leaves out the activations",
             [LINEAR_GATE_TEST]),
    Mutation('se-linear-in-inference', 'se_backbones/layers/se_layer.py',
             'if not (recorded and as_matrix_product',
             'if not (True and as_matrix_product',
             "inference runs the gate as F.linear too (no longer bit-equal to timm's convs)",
             [LINEAR_GATE_TEST]),
    Mutation('squeeze-avg-is-max', 'se_backbones/layers/squeeze_gate.py',
             "if mode == 'avg':\n        return spatial_mean(x)",
             "if mode == 'avg':\n        return x.amax((2, 3), keepdim=True)",
             "squeeze('avg') (ECA, avgmax's half) takes the max",
             ['tests/layers/test_eca_layer.py::test_squeeze_and_gate_options']),
    Mutation('se-gate-in-first-slot', 'se_backbones/layers/se_layer.py',
             "act_cfg = (act_cfg[0], gate_cfg('SELayer', gate))",
             "act_cfg = (gate_cfg('SELayer', gate), act_cfg[1])",
             'SELayer(gate=...) replaces the first activation, not the gate',
             [f'{GATE_TEST}[se_cfg0-1e-05]']),
    Mutation('tanh-gate-fused', 'se_backbones/layers/squeeze_gate.py',
             "FUSABLE_GATES = ('Sigmoid', 'HSigmoid', 'ReLU')",
             "FUSABLE_GATES = ('Sigmoid', 'HSigmoid', 'ReLU', 'Tanh')",
             'a tanh gate (negative values) takes the fused end, which divides by the gate',
             [f'{GATE_TEST}[se_cfg0-1e-05]']),
    # --- argument checks ---
    Mutation('checks-out-indices-off-by-one', 'se_backbones/checks.py',
             'minimum=0, maximum=num_stages - 1)',
             'minimum=0, maximum=num_stages)',
             'out_indices may name a stage past the last',
             [BAD_ARGS_TEST, '-k', 'out_indices']),
    Mutation('checks-frozen-stages-off-by-one', 'se_backbones/checks.py',
             "not -1 <= a['frozen_stages'] <= num_stages",
             "not -1 <= a['frozen_stages'] < num_stages",
             'frozen_stages=num_stages (every stage frozen) refused',
             ['tests/test_checks.py::test_random_configs_build_and_run_or_raise']),
    Mutation('checks-per-stage-length', 'se_backbones/checks.py',
             'if len(values) != num_stages or not ok:',
             'if len(values) < num_stages or not ok:',
             'per-stage tuples longer than num_stages accepted',
             [BAD_ARGS_TEST, '-k', 'stage_with_se']),
    # --- timm key conversion ---
    Mutation('convert-legacy-se-keys', 'se_backbones/weights/convert.py',
             r"(?:se|se_module)\.fc([12])\.",
             r"(?:se)\.fc([12])\.",
             "legacy SENet's se_module.fc1/fc2 keys not mapped",
             ['tests/weights/test_convert.py::test_deep_and_legacy_stems']),
    Mutation('convert-deep-stem-bn', 'se_backbones/weights/convert.py',
             "(r'^bn1\\.', 'stem.7.')",
             "(r'^bn1\\.', 'stem.4.')",
             "deep stem: timm's bn1 mapped to the second stem BN",
             ['tests/weights/test_convert.py::test_deep_and_legacy_stems']),
    # --- the safe loader ---
    Mutation('files-weights-only-off', 'se_backbones/weights/files.py',
             "map_location='cpu', weights_only=True)",
             "map_location='cpu', weights_only=False)",
             'torch.load unpickles anything: a pickle with code runs',
             ['tests/weights/test_init.py::test_a_pickle_with_code_is_refused_and_never_runs']),
    Mutation('files-sha256-first-chunk-only', 'se_backbones/weights/files.py',
             "for chunk in iter(lambda: f.read(1 << 20), b''):\n            digest.update(chunk)",
             'digest.update(f.read(1 << 20))',
             "SHA-256 of the file's first MiB only: later flipped bytes pass",
             ['tests/weights/test_init.py::test_corrupted_bytes_are_caught']),
    Mutation('files-sha256-short-prefix', 'se_backbones/weights/files.py',
             "r'[0-9a-fA-F]{8,64}'",
             "r'[0-9a-fA-F]{1,64}'",
             'a digest prefix shorter than 8 hex digits accepted',
             ['tests/weights/test_convert.py::'
              'test_a_too_short_prefix_of_the_right_digest_is_refused']),
    # --- the RNG hook ---
    Mutation('hooks-after-val-no-restore', 'se_backbones/engine/hooks.py',
             '            set_rng_states(self._val_states)\n            self._val_states = None',
             '            self._val_states = None',
             "validation's random draws leak into training (states not put back)",
             [HOOKS_TEST]),
    Mutation('hooks-before-val-no-save', 'se_backbones/engine/hooks.py',
             'def before_val(self, runner):\n        self._val_states = get_rng_states()',
             'def before_val(self, runner):\n        self._val_states = None',
             'training random states not saved before validation',
             [HOOKS_TEST]),
    # --- the backbone: frozen stages, norm_eval, zero-init, per-stage SE ---
    Mutation('seresnet-train-skips-parent', SERESNET,
             '        super().train(mode)\n        return self',
             '        nn.Module.train(self, mode)\n        return self',
             "train() bypasses mmseg's: frozen stages and norm_eval BNs train",
             [f'{SERESNET_TESTS}::test_frozen_stages_freeze_se_layers_too',
              f'{SERESNET_TESTS}::test_norm_eval_and_train_returns_self']),
    Mutation('seresnet-zero-init-wrong-norm', SERESNET,
             'override=dict(name=self.block.last_norm))',
             "override=dict(name='norm2'))",
             "zero_init_residual zeroes norm2 (a bottleneck's middle norm, not its last)",
             [f'{SERESNET_TESTS}::test_zero_init_residual']),
    Mutation('seresnet-stage-index-off-by-one', SERESNET,
             'stage = len(self.res_layers)  #',
             'stage = len(self.res_layers) - 1  #',
             'per-stage se_ratio / stage_with_se applied to the wrong stage',
             [f'{SERESNET_TESTS}::test_per_stage_ratio_and_flags']),
    # --- SE blocks: with_cp, SE position dispatch ---
    Mutation('blocks-cp-without-with-cp', SE_BLOCKS,
             'if self.with_cp and x.requires_grad:',
             'if x.requires_grad:',
             'gradient checkpointing on even with with_cp=False',
             [f'{SERESNET_TESTS}::test_with_cp_recomputes_every_block_in_backward']),
    Mutation('blocks-cp-ignores-requires-grad', SE_BLOCKS,
             'if self.with_cp and x.requires_grad:',
             'if self.with_cp:',
             'blocks whose input needs no gradient (after frozen stages) checkpointed',
             [f'{SERESNET_TESTS}::test_with_cp_skips_blocks_whose_input_needs_no_gradient']),
    Mutation('blocks-identity-position', SE_BLOCKS,
             'return self.add_relu(out, se(identity))',
             'return self.add_relu(se(out), identity)',
             "se_position='identity' scales the residual branch instead of the shortcut",
             ['tests/backbones/test_variants.py::test_positions_are_where_the_paper_puts_them']),
    # --- timm init order ---
    Mutation('init-timm-before-default-init', 'se_backbones/weights/init.py',
             '    try:\n        init_weights()\n    finally:\n        module.init_cfg = original\n'
             '    for init, state_dict in zip(initializers, state_dicts):\n'
             '        init.load(module, state_dict)',
             '    for init, state_dict in zip(initializers, state_dicts):\n'
             '        init.load(module, state_dict)\n'
             '    try:\n        init_weights()\n    finally:\n        module.init_cfg = original',
             "timm weights loaded before MMEngine's init, which then overwrites them",
             ['tests/weights/test_init.py::test_timm_init_runs_after_the_default_init']),
]


def parse_args(argv=None):
    p = parser(__doc__)
    p.add_argument('--only', nargs='+', metavar='ID', help='run only these mutations')
    p.add_argument('--list', action='store_true',
                   help='check every mutation against the sources, print them with their tests '
                   'and exit')
    p.add_argument('--keep', action='store_true',
                   help='keep the temporary copy of the repository (its path is printed)')
    p.add_argument('--json', metavar='PATH', help='also write the results as JSON')
    p.add_argument('--timeout', type=float, default=300,
                   help='seconds per mutation before its pytest run is stopped (status timeout)')
    p.add_argument('--no-baseline', action='store_true',
                   help='skip the first run of the selected tests on the unmutated copy (they '
                   'must pass there, else a "kill" would prove nothing; about 80 s)')
    args = p.parse_args(argv)
    if args.only:
        unknown = sorted(set(args.only) - {m.id for m in MUTATIONS})
        if unknown:
            die(TOOL, f'unknown mutation id(s) {", ".join(unknown)}; --list lists them')
    return args


def problems(root=ROOT, mutations=MUTATIONS):
    """One line per mutation whose old text is not found exactly once in ``root`` (or whose new
    text is the old one), and per duplicate id; empty if the list fits the sources."""
    found = []
    ids = [m.id for m in mutations]
    found += [f'duplicate mutation id {i!r}' for i in sorted({i for i in ids if ids.count(i) > 1})]
    for m in mutations:
        path = os.path.join(root, m.file)
        if not os.path.isfile(path):
            found.append(f'{m.id}: {m.file} does not exist')
            continue
        with open(path, encoding='utf-8') as f:
            count = f.read().count(m.old)
        if count != 1:
            found.append(f'{m.id}: old text found {count} times in {m.file} (must be exactly '
                         f'once): {m.old!r}')
        if m.old == m.new:
            found.append(f'{m.id}: new text equals the old one')
    return found


def copy_repository(destination):
    for name in COPIED:
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(destination, name), ignore=IGNORED)
        else:
            shutil.copy2(source, destination)
    for name in os.listdir(ROOT):  # conftest files at the root, if any
        if name.startswith('conftest') and name.endswith('.py'):
            shutil.copy2(os.path.join(ROOT, name), destination)


def environment(copy):
    """The test runs' environment: the copy first on the path; no .pyc written (a file restored
    within the second of its mutation, at the same size, must not run from a stale one)."""
    env = dict(os.environ, PYTHONPATH=copy + os.pathsep + os.environ.get('PYTHONPATH', ''),
               PYTHONDONTWRITEBYTECODE='1')
    env.setdefault('OMP_NUM_THREADS', '1')
    return env


def check_imports_from(copy, env):
    """The copy's packages are the ones imported (not an editable install of the repo)."""
    code = ('import os, se_backbones, tests.helpers, tools.cli; print(os.pathsep.join(os.path.'
            'realpath(m.__file__) for m in (se_backbones, tests.helpers, tools.cli)))')
    result = subprocess.run([sys.executable, '-c', code], cwd=copy, env=env, text=True,
                            capture_output=True, timeout=300)
    if result.returncode != 0:
        die(TOOL, f'importing the copy failed: {result.stderr.strip()[-500:]}')
    real = os.path.realpath(copy) + os.sep
    for path in result.stdout.strip().split(os.pathsep):
        if not path.startswith(real):
            die(TOOL, f'{path} is imported instead of the copy in {copy}: the mutations would '
                'not be tested')


def run_pytest(copy, env, selection, basetemp, timeout):
    """(status, seconds, returncode, failed test ids, output tail) of one pytest run."""
    command = [sys.executable, '-m', 'pytest', '-x', '-q', '-p', 'no:cacheprovider',
               f'--basetemp={basetemp}', *selection]
    start = time.monotonic()
    try:
        result = subprocess.run(command, cwd=copy, env=env, text=True, capture_output=True,
                                timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b'')
        output = output.decode(errors='replace') if isinstance(output, bytes) else output
        return 'timeout', time.monotonic() - start, None, [], output[-3000:]
    seconds = time.monotonic() - start
    output = result.stdout + result.stderr
    failed = [line.split()[1] for line in output.splitlines()
              if line.startswith(('FAILED ', 'ERROR ')) and len(line.split()) > 1]
    # 0: passed; 1: tests failed; 2: interrupted (a collection error); others: pytest could
    # not run the selection (4: usage error, no such test; 5: no test collected)
    status = {0: 'survived', 1: 'killed', 2: 'killed'}.get(result.returncode, 'error')
    return status, seconds, result.returncode, failed, output[-3000:]


def apply(copy, mutation):
    """Write the mutated file into the copy; return its original text."""
    path = os.path.join(copy, mutation.file)
    with open(path, encoding='utf-8') as f:
        original = f.read()
    if original.count(mutation.old) != 1:  # checked on the repo already; the copy is the same
        die(TOOL, f'{mutation.id}: old text not found exactly once in the copy of {mutation.file}')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(original.replace(mutation.old, mutation.new))
    return original


def baseline(copy, env, mutations, timeout):
    """Run the mutations' tests on the unmutated copy, or end the tool: a "kill" by a test that
    fails anyway would prove nothing. One pytest run per environment for the node ids, one per
    -k selection."""
    groups = {}  # (extra environment, -k selection or None) -> pytest arguments
    for m in mutations:
        key = (tuple(sorted((m.env or {}).items())), tuple(m.tests) if '-k' in m.tests else None)
        groups.setdefault(key, []).extend(t for t in m.tests if t not in groups.get(key, []))
    for i, ((extra, _), selection) in enumerate(groups.items()):
        status, seconds, code, failed, output = run_pytest(
            copy, dict(env, **dict(extra)), selection,
            os.path.join(copy, '.pytest_tmp', f'baseline{i}'), timeout * len(selection))
        print(f'baseline {i + 1}/{len(groups)} ({len(selection)} arguments'
              f'{", " + " ".join(f"{k}={v}" for k, v in extra) if extra else ""}): '
              f'{"passed" if status == "survived" else status} ({seconds:.1f} s)',
              file=sys.stderr)
        if status != 'survived':
            die(TOOL, f'the unmutated code fails {" ".join(selection)} (exit code {code}):\n'
                f'{output}')


def table(results):
    lines = ['| mutation | file | what it breaks | result | seconds |',
             '|---|---|---|---|---:|']
    for r in results:
        lines.append(f"| {r['id']} | {r['file']} | {r['breaks']} | {r['status']} | "
                     f"{r['seconds']:.1f} |")
    return '\n'.join(lines)


def list_mutations(mutations):
    for m in mutations:
        env = ''.join(f'{k}={v} ' for k, v in (m.env or {}).items())
        print(f'{m.id}\n  {m.file}: {m.breaks}\n  - {m.old!r}\n  + {m.new!r}\n'
              f'  tests: {env}{" ".join(m.tests)}')
    print(f'{len(mutations)} mutation{"s" if len(mutations) != 1 else ""}, each old text found '
          'exactly once')


def main(argv=None):
    args = parse_args(argv)
    found = problems()
    if found:
        die(TOOL, 'the mutation list does not fit the sources any more (update it with the '
            'code):\n  ' + '\n  '.join(found))
    mutations = [m for m in MUTATIONS if not args.only or m.id in args.only]
    if args.list:
        list_mutations(mutations)
        return []
    start = time.monotonic()
    copy = tempfile.mkdtemp(prefix='se_backbones_mutation_check_')
    try:
        copy_repository(copy)
        env = environment(copy)
        check_imports_from(copy, env)
        print(f'copy: {copy} (imports checked: se_backbones, tests, tools come from it)',
              file=sys.stderr)
        os.makedirs(os.path.join(copy, '.pytest_tmp'))
        if not args.no_baseline:
            baseline(copy, env, mutations, args.timeout)
        results = []
        for m in mutations:
            original = apply(copy, m)
            try:
                status, seconds, code, failed, output = run_pytest(
                    copy, dict(env, **(m.env or {})), m.tests,
                    os.path.join(copy, '.pytest_tmp', m.id), args.timeout)
            finally:
                with open(os.path.join(copy, m.file), 'w', encoding='utf-8') as f:
                    f.write(original)
            results.append(dict(id=m.id, file=m.file, breaks=m.breaks, tests=m.tests,
                                env=m.env or {}, status=status, seconds=round(seconds, 1),
                                returncode=code, failed=failed))
            print(f'{m.id}: {status} ({seconds:.1f} s){" by " + failed[0] if failed else ""}',
                  file=sys.stderr)
            if status != 'killed':
                print(output, file=sys.stderr)
    finally:
        if args.keep:
            print(f'kept the copy: {copy}', file=sys.stderr)
        else:
            shutil.rmtree(copy, ignore_errors=True)
    total = time.monotonic() - start
    print(table(results))
    not_killed = [r['id'] for r in results if r['status'] != 'killed']
    print(f'\n{len(results) - len(not_killed)} of {len(results)} mutations killed in '
          f'{total:.0f} s' + (f'; NOT killed: {", ".join(not_killed)}' if not_killed else ''))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(results=results, seconds=round(total, 1),
                           killed=len(results) - len(not_killed), total=len(results)), f,
                      indent=2)
    if not_killed:
        raise SystemExit(1)
    return results


if __name__ == '__main__':
    main()
