"""Mutation testing with mutmut, one module at a time, each with the tests that mirror it.

mutmut (configured in pyproject.toml's ``[tool.mutmut]``) mutates every operator, constant,
argument and call of the functions and methods of a module, and runs the tests that reach each
mutated function. A mutant is *killed* when a test fails, *survives* when they all pass (a hole
in the tests, or a change nothing can observe: an *equivalent* mutant, listed with its reason
in docs/mutation_testing.md), *times out*, or has *no tests* (no selected test calls it).

This script runs mutmut per module with that module's own test selection (``MODULES``: the
test files mirroring it, seconds per run instead of the whole suite's minutes), in a work dir
``mutants/runs/<module>/`` that keeps mutmut's results between runs (a rerun only tests what
changed), and prints per module: mutants, killed, survivors documented as equivalent,
survivors not documented, timeouts, no tests, time.

    python dev/mutation.py --list                       # the modules and their tests
    python dev/mutation.py se_backbones/checks.py       # one module (or several)
    python dev/mutation.py --all --budget 3600          # every module, stop after an hour
    python dev/mutation.py --changed origin/main        # modules a change touched (and the
                                                        # modules whose tests it touched)
    python dev/mutation.py se_backbones/checks.py --survivors   # each survivor's diff
    python dev/mutation.py --all --fresh --markdown     # from scratch; a Markdown table

Exit status 0 when every module run has no undocumented survivor, no mutant without tests and
timeouts at most 5 % of its mutants; 1 otherwise; 2 for a usage error. A run stopped by the
budget says so (its results are kept: the next run goes on from there).

mutmut runs with one worker (``--jobs``), under ``nice`` (``--nice``), with one thread per
math library (OMP_NUM_THREADS=1): mutmut's timeout is a CPU-time limit relative to the tests'
own duration, and multi-threaded torch spends CPU seconds faster than wall seconds.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = os.path.join(ROOT, 'mutants', 'runs')
EQUIVALENTS_DOC = os.path.join(ROOT, 'docs', 'mutation_testing.md')
LINKED = ('se_backbones', 'tools', 'tests', 'configs', 'dev', 'docs')  # what a work dir sees
TIMEOUT_SHARE = 0.05  # timeouts above this share of a module's mutants fail the run

# The twin's fast tests per module: each rule alone (test_rules: context(model_dict)), whole
# twins of small local bases (test_make), the options and refusals. Not the toy train steps, the
# builds and forwards of upstream twins, the sweep and the subprocesses (minutes a mutant; what
# they check of the twin's text and refusals has fast tests here).
RULES_TESTS = ['tests/twin/test_rules.py', 'tests/twin/test_make.py']
TWIN_TESTS = {
    'rules_backbone': RULES_TESTS,
    'rules_init': RULES_TESTS,
    'rules_model': RULES_TESTS,
    'widths': RULES_TESTS,
    'context': RULES_TESTS,
    'changes': ['tests/twin/test_changes.py', *RULES_TESTS],
    'archs': ['tests/twin/test_archs.py', 'tests/twin/test_weights.py', *RULES_TESTS],
    'weights': [
        'tests/twin/test_weights.py',
        'tests/twin/test_weights_load.py',
        'tests/twin/test_upstream_configs.py',
        '-k',
        'not train_a_step and not command and not upstream_configs or options_that_do_not',
    ],
    # effective_backbone's refusals and the class defaults it fills in: tested with the rules
    'base': [
        'tests/twin/test_base.py',
        'tests/twin/test_make.py',
        'tests/twin/test_render.py',
        'tests/twin/test_rules.py',
    ],
    'render': ['tests/twin/test_render.py', 'tests/twin/test_make.py'],
    'make': ['tests/twin/test_make.py', 'tests/twin/test_render.py', 'tests/twin/test_base.py'],
}
CLI_TESTS = ['tests/tools/test_make_se_config.py', 'tests/tools/test_cli.py']
NOT_SUBPROCESS = (
    'not heavy_imports and not missing_input_file and not dataset_that_is_not_there '
    'and not missing_toy_set'
)
RUN_ARGS = (  # tools/train.py and tools/test.py parsing and wiring, without a run
    'parses_its_options or missing_file_is_one_line or evaluates_the_checkpoint '
    'or runner_options or make_se_config or die or require_file or parser_keeps'
)
HELP = 'test_help_is_the_docstring_and_each_options_help'  # each tool's --help, word for word
RUN_TESTS = ['tests/tools/test_train.py', 'tests/tools/test_cli.py']
IN_PROCESS_RUN_ARGS = f'({NOT_SUBPROCESS}) and ({RUN_ARGS} or {HELP})'

# what the layers' and backbones' selections leave out (see MODULES)
FAST = 'not random_configs and not inductor and not compiled_channels_last and not faster_rcnn'
# SEResNet's arguments: each against mmdet/mmseg, timm's stage depths or a hand composition,
# and their refusals.
BACKBONE_ARGUMENT_TESTS = [
    'tests/backbones/test_seresnet.py',
    'tests/backbones/test_variants.py',
    'tests/backbones/test_differential.py',
    'tests/test_checks.py',
]
# Every test of those builds a backbone, so each mutant of SEResNet.__init__ runs them all (a
# minute a mutant with all of them). Left out: the full-width R34 to R152 builds whose point a
# depth-18, base_channels=16 (or 8) test makes too: the SE widths per stage
# (se_arguments_reach_every_stage for the R50 parameter counts), the ResNet arguments passed on
# (R18/R34 and the 3-stage case of without_se_is_mmdet_resnet, the differential explicit cases,
# test_checks' builds), the init rules (init_is_mmseg_resnets at depth 18: default, no zero
# init, init_cfg, pretrained), checkpointing (with_cp_recomputes_every_block at depth 18), the
# gates' gradients (the layers' and fast paths' own tests).
SLOW_BACKBONE_TESTS = (
    'test_param_count_is_the_paper_formula',
    'test_stage_shapes[34',
    'test_stage_shapes[50',
    'test_stage_shapes[1',
    'test_without_se_is_mmdet_resnet[50',
    'test_without_se_is_mmdet_resnet[101',
    'test_without_se_is_mmseg_resnetv1c_with_contract_dilation',
    'test_multi_grid_matches_mmseg',
    'test_loads_mmpretrain_seresnet_and_matches',
    'test_with_cp_gives_the_same_gradients',
    'test_with_cp_recomputes_every_block_in_backward[50',
    'test_zero_init_residual[50',
    'test_pretrained_checkpoint',
    'test_dcn_and_plugins',
    'test_group_norm_that_fits_the_widths_is_accepted',
    '50-bn3',  # test_init_is_mmseg_resnets' bottleneck cases
    'test_every_gate_trains_with_the_plain_formulas_gradients',
    'test_gn32_resnet50_builds_as_in_mmseg_tests',
    'test_se_position_param_counts',
    'test_eca_adds_k_weights_per_layer',
    'test_stage_shapes_and_group_widths[1',  # SEResNeXt-101/152
    'test_without_se_is_mmdet_resnext[kwargs0',  # full width (kwargs2: base 32, 8 groups)
    'test_without_se_is_mmdet_resnext[kwargs1',
    'test_loads_mmpretrain_seresnext_and_matches',
    'test_plugins_after_grouped_conv_get_the_group_width',
    'test_architecture_of_senet154',  # 113M parameters; its_defaults_in_the_first_two_stages
    'test_seresnet_without_se',  # the hypothesis differential tests: hundreds of builds
    'test_seresnext_without_se',
)
NOT_SLOW_BACKBONE = ' and '.join(f'not {name}' for name in SLOW_BACKBONE_TESTS)
# The squeeze's and the block end's fast selection: not dynamo's graph captures and the ONNX
# exports (5 to 15 s each, 55 s in all, per mutant); the TorchScript traces stay (the export
# branch: is_exporting), and the compiled-path survivors are run again with them.
NOT_COMPILED = (
    'not compile and not graph_break and not onnx and not gradients_equal_the_unfused_ones[kwargs1'
)

# module -> the pytest arguments selecting the tests that should catch its bugs: the test
# files mirroring it, and those of its callers where those say what a user sees
MODULES = {
    # the hypothesis test builds 60 models: too slow per mutant; its kills have fast tests too
    'se_backbones/checks.py': ['tests/test_checks.py', '-k', 'not random_configs'],
    'se_backbones/registry.py': ['tests/test_registry.py'],
    'se_backbones/data/toy_shapes.py': ['tests/data'],
    # the package's lazy names (its one function; the other __init__ files hold none)
    'se_backbones/data/__init__.py': ['tests/data/test_toy_shapes.py', '-k', 'three_names'],
    # test_hooks.py's two train-and-resume tests run tools/train.py in subprocesses (minutes,
    # and invisible to mutmut); their in-process counterparts are test_rng_isolation.py's
    'se_backbones/engine/hooks.py': [
        'tests/engine/test_hooks.py',
        'tests/engine/test_rng_isolation.py',
        '-k',
        'not same_seed_same_losses and not sigkill_then_resume',
    ],
    # not the two real Runners of the toy detector (13 s: MMEngine formats and dumps the whole
    # config); a stand-in of MMEngine's Runner.from_cfg receives the same config in milliseconds
    'se_backbones/engine/runner.py': [
        'tests/engine/test_runner.py',
        '-k',
        'not two_runners_in_one_process',
    ],
    # not test_plot_results' toy training run (a minute): predictions.png is drawn in
    # test_visualization from known predictions (mmdet's and mmseg's inference stood in)
    'se_backbones/engine/visualization.py': [
        'tests/engine/test_visualization.py',
        'tests/tools/test_plot_results.py',
        '-k',
        'not three_iteration_run',
    ],
    'se_backbones/weights/files.py': ['tests/weights/test_files.py', 'tests/weights/test_init.py'],
    # test_timm_equivalence.py builds every supported architecture (minutes per mutant)
    'se_backbones/weights/equivalence.py': ['tests/weights/test_equivalence.py'],
    'se_backbones/weights/convert.py': ['tests/weights/test_convert.py'],
    'se_backbones/weights/init.py': [
        'tests/weights/test_init.py',
        'tests/weights/test_init_default.py',
        'tests/weights/test_init_added.py',
    ],
    'se_backbones/weights/timm_archs.py': ['tests/weights/test_timm_archs.py'],
    # the command lines in-process (subprocess tests reach no function mutmut can see)
    'tools/cli.py': [
        *CLI_TESTS,
        'tests/tools/test_train.py',
        '-k',
        IN_PROCESS_RUN_ARGS,
    ],
    # not the two forwards against timm's (seconds each, every mutant of main runs them): the
    # written tensors, printed lines and config have their own fast test
    'tools/convert_timm.py': [
        'tests/tools/test_convert_timm.py',
        f'tests/tools/test_cli.py::{HELP}',
        '-k',
        'not loads_with_pretrained_init and not gives_timm_logits',
    ],
    # the tables of two ResNet-18s of width 16 (a second), not the ResNet-50s and SENet-154
    'tools/summary.py': [
        'tests/tools/test_summary.py',
        f'tests/tools/test_cli.py::{HELP}',
        '-k',
        'small_backbones or rounds_the_gflops or (help_is_the_docstring and summary)',
    ],
    # the tables, ratios, extras and JSON from a stand-in of dev.measure with chosen times (a
    # second); not test_benchmark.py's real measurements (minutes)
    'tools/benchmark.py': [
        'tests/tools/test_benchmark_tables.py',
        f'tests/tools/test_cli.py::{HELP}',
        '-k',
        'not help_is_the_docstring or benchmark',
    ],
    # the command line with plot_run stood in (the pictures are visualization.py's)
    'tools/plot_results.py': [
        'tests/tools/test_plot_results.py',
        f'tests/tools/test_cli.py::{HELP}',
        '-k',
        'command_line or missing_input or (help_is_the_docstring and plot_results)',
    ],
    # the main job's command line with the toy set, the Runner and the pictures stood in; not
    # test_demo_and_plots.py's real training (minutes)
    'tools/demo.py': ['tests/tools/test_demo.py'],
    # the table, JSON and refusals with the measurement stood in, and one measurement of a
    # stand-in runner; not the real evaluation of two detectors (a minute)
    'tools/benchmark_coco.py': [
        'tests/tools/test_benchmark_coco.py',
        f'tests/tools/test_cli.py::{HELP}',
        '-k',
        'not se_and_plain_side_by_side and (not help_is_the_docstring or benchmark_coco)',
    ],
    'tools/train.py': [*RUN_TESTS, '-k', IN_PROCESS_RUN_ARGS],
    'tools/test.py': [*RUN_TESTS, '-k', IN_PROCESS_RUN_ARGS],
    'tools/make_se_config.py': [*CLI_TESTS, '-k', NOT_SUBPROCESS],
    'se_backbones/resnet_checks.py': [
        'tests/test_checks.py',
        'tests/upstream/test_mmdet_resnet_behaviours.py',
        '-k',
        'not random_configs',
    ],
    # layers and backbones: without inductor's code generation (tens of seconds per test; the
    # compiled branches are traced by dynamo's graph capture and aot_eager too), the detector
    # train step (the backbone's autocast step covers it) and the hypothesis differential
    # tests (650 model builds; their explicit cases stay); with tests/test_checks.py's
    # refusals where the module raises them. A layer's own tests compare it with the paper's
    # formula, timm, mmdet and mmpretrain; the whole-backbone paths (compile, export, autocast)
    # are for the modules those paths branch in (the squeeze and the block end).
    'se_backbones/layers/attention.py': [
        'tests/layers/test_attention.py',
        'tests/layers/test_eca_layer.py',
        'tests/layers/test_se_layer.py',
    ],
    'se_backbones/layers/eca_layer.py': [
        'tests/layers/test_eca_layer.py',
        'tests/layers/test_squeeze_gate.py',
        'tests/test_checks.py',
        '-k',
        FAST,
    ],
    'se_backbones/layers/make_divisible.py': [
        'tests/layers/test_make_divisible.py',
        'tests/layers/test_se_layer.py',
    ],
    'se_backbones/layers/se_layer.py': [
        'tests/layers/test_se_layer.py',
        'tests/layers/test_squeeze_gate.py',
        'tests/layers/test_se_plugin.py',
        'tests/test_checks.py',
        '-k',
        FAST,
    ],
    'se_backbones/layers/se_plugin.py': ['tests/layers/test_se_plugin.py'],
    'se_backbones/layers/scale_add_relu.py': [
        'tests/layers',
        'tests/backbones/test_fast_paths.py',
        '-k',
        f'{FAST} and {NOT_COMPILED}',
    ],
    'se_backbones/layers/squeeze_gate.py': [
        'tests/layers',
        'tests/backbones/test_fast_paths.py',
        'tests/test_checks.py',
        '-k',
        f'{FAST} and {NOT_COMPILED}',
    ],
    **{
        f'se_backbones/backbones/{name}.py': [
            *{
                'arguments': BACKBONE_ARGUMENT_TESTS,
                'seresnet': BACKBONE_ARGUMENT_TESTS,
                'seresnext': ['tests/backbones/test_seresnext.py', *BACKBONE_ARGUMENT_TESTS],
                'senet': ['tests/backbones/test_senet.py'],
                'se_blocks': [
                    'tests/backbones/test_se_blocks.py',
                    'tests/backbones/test_senet.py',  # SENetBottleneck
                    'tests/test_checks.py',  # plugins that do not build, word for word
                    'tests/upstream/test_mmdet_resnet_behaviours.py',  # with_cp, plugins
                    'tests/test_extending.py',  # an attention that is not fusable
                    'tests/backbones/test_variants.py',
                    'tests/backbones/test_seresnet.py',
                    'tests/backbones/test_fast_paths.py',
                    'tests/layers/test_scale_add_relu.py',
                ],
            }[name],
            '-k',
            # the block's forward under dynamo: mutmut's trampoline (an os.environ read per
            # call) breaks the graph that fullgraph tests require, so its stats run fails
            f'{FAST} and {NOT_SLOW_BACKBONE}'
            + (f' and {NOT_COMPILED}' if name == 'se_blocks' else ''),
        ]
        for name in ('arguments', 'se_blocks', 'senet', 'seresnet', 'seresnext')
    },
    **{f'se_backbones/twin/{name}.py': tests for name, tests in TWIN_TESTS.items()},
}


def module_slug(module):
    return module[: -len('.py')].replace('/', '.')


def work_dir(module):
    """Where ``module``'s runs and results are kept."""
    return os.path.join(RUNS, module_slug(module))


def documented_equivalents(path=EQUIVALENTS_DOC):
    """Mutant names listed as equivalent in the doc: table rows starting with a backquoted
    ``module.x_function__mutmut_N`` name."""
    if not os.path.isfile(path):
        return set()
    with open(path, encoding='utf-8') as f:
        return set(re.findall(r'^\|\s*`([\w.ǁ]+__mutmut_\d+)`', f.read(), re.MULTILINE))


def pyproject_for(module, tests):
    """The repo's pyproject.toml with ``[tool.mutmut]`` narrowed to ``module`` and ``tests``."""
    with open(os.path.join(ROOT, 'pyproject.toml'), encoding='utf-8') as f:
        text = f.read()
    lines, kept, section = text.splitlines(), [], None
    for line in lines:
        header = re.match(r'^\s*\[([^\]]+)\]\s*$', line)
        if header:
            section = header.group(1).strip()
        if section != 'tool.mutmut':
            kept.append(line)
    import tomllib

    config = dict(tomllib.loads(text).get('tool', {}).get('mutmut', {}))
    config.update(
        only_mutate=[module],
        pytest_add_cli_args_test_selection=list(tests),
        use_git_change_detection=False,
    )
    body = '\n'.join(f'{key} = {json.dumps(value)}' for key, value in config.items())
    return '\n'.join(kept) + f'\n\n[tool.mutmut]\n{body}\n'


def forget_a_stale_test_map(work, module):
    """Drop mutmut's map of which tests call which function when ``module`` changed since the
    last run in ``work`` (or that is not known). mutmut records the map once and afterwards
    only adds the tests that are new: a function added to the module would be run against the
    new tests alone, and its mutants could survive tests that kill them."""
    with open(os.path.join(ROOT, module), 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(work, 'source.sha256')
    known = None
    if os.path.isfile(stamp):
        with open(stamp, encoding='utf-8') as f:
            known = f.read().strip()
    if known != digest:
        stats = os.path.join(work, 'mutants', 'mutmut-stats.json')
        if os.path.isfile(stats):
            os.remove(stats)
        with open(stamp, 'w', encoding='utf-8') as f:
            f.write(digest)


def prepare(module, tests, fresh):
    """The module's work dir: links to the repo's sources and tests, and its pyproject."""
    work = work_dir(module)
    if fresh and os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    forget_a_stale_test_map(work, module)
    for name in LINKED:
        link = os.path.join(work, name)
        if not os.path.islink(link):
            os.symlink(os.path.relpath(os.path.join(ROOT, name), work), link)
    with open(os.path.join(work, 'pyproject.toml'), 'w', encoding='utf-8') as f:
        f.write(pyproject_for(module, tests))
    return work


def results(work, module):
    """mutmut's exit code per mutant of ``module`` (None: not run yet)."""
    meta = os.path.join(work, 'mutants', module + '.meta')
    if not os.path.isfile(meta):
        return {}
    with open(meta, encoding='utf-8') as f:
        return json.load(f)['exit_code_by_key']


def status(exit_code):
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[exit_code]


def summarize(module, codes, equivalents, seconds, stopped):
    statuses = {name: status(code) for name, code in codes.items()}
    survived = sorted(n for n, s in statuses.items() if s == 'survived')
    row = dict(
        module=module,
        mutants=len(statuses),
        killed=sum(s in ('killed', 'caught by type check') for s in statuses.values()),
        equivalent=sum(n in equivalents for n in survived),
        survived=[n for n in survived if n not in equivalents],
        timeouts=sorted(n for n, s in statuses.items() if s == 'timeout'),
        no_tests=sorted(n for n, s in statuses.items() if s == 'no tests'),
        other=sorted(
            n
            for n, s in statuses.items()
            if s not in ('killed', 'caught by type check', 'survived', 'timeout', 'no tests')
        ),
        seconds=seconds,
        stopped=stopped,
    )
    row['ok'] = (
        not row['survived']
        and not row['no_tests']
        and not row['other']
        and len(row['timeouts']) <= TIMEOUT_SHARE * max(row['mutants'], 1)
        and not stopped
    )
    return row


def run_module(module, tests, args, deadline, equivalents):
    work = prepare(module, tests, args.fresh)
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONDONTWRITEBYTECODE='1')
    command = [sys.executable, '-m', 'mutmut', 'run', '--max-children', str(args.jobs)]
    if args.rerun:  # mutmut keeps a result; a mutant named explicitly is tested again
        command += [
            n
            for n, code in results(work, module).items()
            if status(code) in ('survived', 'timeout', 'no tests')
        ]
        if command[-1] == str(args.jobs):
            return summarize(module, results(work, module), equivalents, 0.0, False)
    start, stopped = time.monotonic(), False
    with open(os.path.join(work, 'run.log'), 'w', encoding='utf-8') as log:
        process = subprocess.Popen(
            command,
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: os.nice(args.nice),
        )
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 1))
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as reason:  # the budget, Ctrl-C
            stopped = True  # mutmut, in its own session, gets no Ctrl-C; it saves on SIGINT
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if isinstance(reason, KeyboardInterrupt):
                raise
    row = summarize(module, results(work, module), equivalents, time.monotonic() - start, stopped)
    if process.returncode not in (0, None) and not stopped and not row['mutants']:
        row['other'] = [f'mutmut failed (exit {process.returncode}): see {work}/run.log']
        row['ok'] = False
    return row


def report(module, equivalents):
    """The row of ``module`` from the results kept in its work dir (not run: 'not run')."""
    codes = results(work_dir(module), module)
    row = summarize(module, codes, equivalents, 0.0, False)
    if not codes:
        row['other'], row['ok'] = ['not run'], False
    return row


def changed_modules(base):
    """Modules whose source, or whose selected tests, differ from ``base`` (committed or
    not), and new files."""

    def git(*argv):
        return subprocess.run(
            ['git', *argv], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()

    files = set(git('diff', '--name-only', base, '--')) | set(
        git('ls-files', '--others', '--exclude-standard')
    )
    return [
        m
        for m, tests in MODULES.items()
        if m in files
        or any(f == t or f.startswith(t.rstrip('/') + '/') for f in files for t in tests)
    ]


def show_survivors(work, names):
    for name in names:
        diff = subprocess.run(
            [sys.executable, '-m', 'mutmut', 'show', name], cwd=work, capture_output=True, text=True
        ).stdout
        print(diff.rstrip() + '\n')


def table(rows, markdown):
    head = ('module', 'mutants', 'killed', 'equivalent', 'survived', 'timeouts', 'no tests', 'time')
    body = [
        (
            r['module'],
            r['mutants'],
            r['killed'],
            r['equivalent'],
            len(r['survived']),
            len(r['timeouts']),
            len(r['no_tests']),
            f'{r["seconds"] / 60:.1f} min' + (' (stopped)' if r['stopped'] else ''),
        )
        for r in rows
    ]
    if markdown:
        lines = ['| ' + ' | '.join(head) + ' |', '|---' + '|---:' * (len(head) - 1) + '|']
        lines += ['| ' + ' | '.join(map(str, row)) + ' |' for row in body]
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
        lines = [
            '  '.join(
                str(x).ljust(w) if i == 0 else str(x).rjust(w)
                for i, (x, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in (head, *body)
        ]
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog='dev/mutation.py', description=__doc__.split('\n')[0])
    p.add_argument('modules', nargs='*', help='modules to mutate (paths from the repo root)')
    p.add_argument('--all', action='store_true', help='every module of MODULES')
    p.add_argument(
        '--changed', metavar='BASE', help='the modules a change since BASE (a git revision) touched'
    )
    p.add_argument(
        '--budget',
        type=float,
        default=None,
        metavar='SECONDS',
        help='stop after this long in all (results so far are kept)',
    )
    p.add_argument('--jobs', type=int, default=1, help='mutmut workers (default: 1)')
    p.add_argument('--nice', type=int, default=19, help='niceness of mutmut (default: 19)')
    p.add_argument('--fresh', action='store_true', help="discard a module's earlier results")
    p.add_argument(
        '--rerun',
        action='store_true',
        help='test again only the survivors, timeouts and mutants without tests of '
        'an earlier run (after adding tests)',
    )
    p.add_argument(
        '--survivors',
        action='store_true',
        help='print the diff of every undocumented survivor and timeout',
    )
    p.add_argument(
        '--report',
        action='store_true',
        help='run nothing: the table of the results kept from earlier runs',
    )
    p.add_argument('--markdown', action='store_true', help='print the table as Markdown')
    p.add_argument('--json', metavar='PATH', help='write the results to PATH')
    p.add_argument('--list', action='store_true', help='print the modules and their tests')
    args = p.parse_args(argv)
    if args.list:
        for module, tests in MODULES.items():
            print(f'{module}: {" ".join(tests)}')
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        p.error(f'not in MODULES: {", ".join(unknown)} (see --list)')
    if args.all + bool(args.modules) + (args.changed is not None) != 1:
        p.error('name modules, or give --all or --changed BASE (one of them)')
    if args.jobs < 1 or (args.budget is not None and args.budget <= 0):
        p.error('--jobs and --budget must be positive')
    try:
        import mutmut  # noqa: F401
    except ImportError:
        print("mutation.py: mutmut is not installed: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    modules = (
        list(MODULES)
        if args.all
        else args.modules
        if args.modules
        else changed_modules(args.changed)
    )
    if not modules:
        print('mutation.py: no module changed')
        return 0
    deadline = time.monotonic() + (args.budget if args.budget is not None else float('inf'))
    equivalents, rows = documented_equivalents(), []
    for module in modules:
        if time.monotonic() >= deadline:
            print(f'{module}: not run (budget spent)')
            continue
        if args.report:
            row = report(module, equivalents)
        else:
            row = run_module(module, MODULES[module], args, deadline, equivalents)
        rows.append(row)
        print(table([row], False).splitlines()[1], flush=True)
        if args.survivors:
            show_survivors(
                work_dir(module),
                row['survived'] + row['timeouts'] + row['no_tests'],
            )
    print()
    print(table(rows, args.markdown))
    total = sum(r['seconds'] for r in rows)
    print(f'\n{sum(r["mutants"] for r in rows)} mutants in {total / 60:.1f} min')
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump(rows, f, indent=1)
    return 0 if rows and all(r['ok'] for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
